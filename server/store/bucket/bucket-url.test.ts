import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../../errors";
import { bucketLocation, describeBucket, isBucketUrl, parseBucketUrl } from "./bucket-url";

function refusal(value: string): InvalidInputError {
  try {
    parseBucketUrl(value);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    return error as InvalidInputError;
  }
  throw new Error(`accepted ${value}`);
}

describe("SAFETYNET_OBJECT_STORE as a bucket URL", () => {
  it("reads bucket, prefix, endpoint, region and path style", () => {
    expect(parseBucketUrl("s3://my-bucket/safety/net?endpoint=http://127.0.0.1:9000&region=eu-west-3&forcePathStyle=true")).toEqual({
      bucket: "my-bucket",
      prefix: "safety/net",
      endpoint: "http://127.0.0.1:9000",
      region: "eu-west-3",
      forcePathStyle: true,
    });
  });

  it("drops leading and trailing slashes of the prefix, and has none for the bucket's root", () => {
    expect(parseBucketUrl("s3://bucket//a/b/").prefix).toBe("a/b");
    expect(parseBucketUrl("s3://bucket").prefix).toBe("");
    expect(parseBucketUrl("s3://bucket/").prefix).toBe("");
  });

  it("defaults to us-east-1 and path-style requests with an endpoint, and leaves AWS's region to the SDK without one", () => {
    expect(parseBucketUrl("s3://bucket/p?endpoint=https://minio.example:9000/")).toEqual({ bucket: "bucket", prefix: "p", endpoint: "https://minio.example:9000", region: "us-east-1", forcePathStyle: true });
    expect(parseBucketUrl("s3://bucket/p")).toEqual({ bucket: "bucket", prefix: "p", forcePathStyle: false });
    expect(parseBucketUrl("s3://bucket?endpoint=http://h:1&forcePathStyle=false").forcePathStyle).toBe(false);
  });

  it("accepts a URL-encoded endpoint", () => {
    expect(parseBucketUrl(`s3://bucket?endpoint=${encodeURIComponent("http://127.0.0.1:9000")}`).endpoint).toBe("http://127.0.0.1:9000");
  });

  it("names the setting and the problem in every refusal", () => {
    const error = refusal("s3://Bad_Bucket/p");
    expect(error.message).toMatch(/^invalid SAFETYNET_OBJECT_STORE: bucket name "Bad_Bucket" may hold only lowercase letters/);
    expect(error.details.field).toBe("SAFETYNET_OBJECT_STORE");
  });

  it.each([
    ["http://bucket/p", /expected s3:\/\/<bucket>/],
    ["s3://", /no bucket name/],
    ["s3://ab", /3 to 63 characters/],
    [`s3://${"a".repeat(64)}`, /3 to 63 characters/],
    ["s3://-bucket", /begin and end with a letter or digit/],
    ["s3://a..b", /two dots in a row/],
    ["s3://192.168.1.1", /IP address/],
    ["s3://xn--bucket", /must not begin with "xn--"/],
    ["s3://bucket-s3alias", /must not end with "-s3alias"/],
    ["s3://bucket/a//b", /empty folder/],
    ["s3://bucket/a/../b", /"\." or "\.\." folders/],
    ["s3://bucket/a b", /may hold only letters, digits/],
    ["s3://bucket/%zz", /malformed %-escape/],
    ["s3://bucket?endpoint=ftp://host", /must be an http:\/\/ or https:\/\/ URL/],
    ["s3://bucket?endpoint=not a url", /is not a URL/],
    ["s3://bucket?endpoint=http://h:1/?x=1", /query/],
    ["s3://bucket?region=us east", /region "us east"/],
    ["s3://bucket?forcePathStyle=yes", /forcePathStyle must be true or false, not "yes"/],
    ["s3://bucket?endpont=http://h", /unknown parameter "endpont" \(known: endpoint, region, forcePathStyle\)/],
    ["s3://bucket?region=a&region=b", /"region" is given twice/],
    ["s3://bucket#frag", /"#" has no meaning/],
  ])("refuses %s", (value, problem) => {
    expect(refusal(value).message).toMatch(problem);
  });

  it("refuses credentials in the URL without repeating them", () => {
    for (const value of ["s3://AKIA123:s3cr3t@bucket/p", "s3://bucket?endpoint=http://AKIA123:s3cr3t@host:9000"]) {
      const error = refusal(value);
      expect(error.message).toMatch(/credentials/);
      expect(error.message).not.toContain("s3cr3t");
      expect(JSON.stringify(error.details)).not.toContain("s3cr3t");
    }
  });

  it("tells a bucket URL from a local setting", () => {
    expect(isBucketUrl("s3://bucket")).toBe(true);
    expect(isBucketUrl("  S3://bucket/p ")).toBe(true);
    expect(isBucketUrl("local")).toBe(false);
    expect(isBucketUrl("/var/lib/safetynet")).toBe(false);
  });

  it("describes the bucket by location and endpoint", () => {
    const url = parseBucketUrl("s3://bucket/a/b?endpoint=http://127.0.0.1:9000");
    expect(bucketLocation(url)).toBe("s3://bucket/a/b");
    expect(describeBucket(url)).toBe("s3://bucket/a/b (endpoint http://127.0.0.1:9000)");
    expect(describeBucket(parseBucketUrl("s3://bucket?region=eu-west-1"))).toBe("s3://bucket (AWS S3, eu-west-1)");
  });
});
