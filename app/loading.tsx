import { LoadingBlock } from "@/components/feedback/LoadingBlock";

export default function Loading() {
  return <LoadingBlock label="Loading" rows={4} />;
}
