// Hands the requested page (path and query) to the root layout in a request header:
// server components are not told their URL, and the layout needs it to send a
// visitor without a valid session to /login and back here afterwards, with a real
// 307 before any HTML is streamed. Nothing else: no auth decisions are made here.
import { NextResponse, type NextRequest } from "next/server";

const REQUESTED_PATH_HEADER = "x-safetynet-path";

export function proxy(request: NextRequest) {
  const headers = new Headers(request.headers);
  headers.set(REQUESTED_PATH_HEADER, request.nextUrl.pathname + request.nextUrl.search);
  return NextResponse.next({ request: { headers } });
}

export const config = {
  // Pages only: not the API, Next's own assets or the icon.
  matcher: ["/((?!api/|_next/|icon\\.svg|favicon\\.ico).*)"],
};
