// s3::SignV4 against AWS's published example, and the rule for when S3ObjectStore signs
// instead of curl.

#include "storage/object/s3_sigv4.h"

#include <ctime>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tessera::storage::s3 {
namespace {

// The "GET Object" example of AWS's SigV4 documentation (header-based auth for S3).
TEST(S3SignV4, MatchesTheAwsDocumentationExample) {
  const SigV4Request request{
      .method = "GET",
      .host = "examplebucket.s3.amazonaws.com",
      .path = "/test.txt",
      .query = "",
      .headers = {"Range: bytes=0-9",
                  "x-amz-content-sha256:  e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      .payload_hash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"};
  std::tm tm{};
  tm.tm_year = 2013 - 1900;
  tm.tm_mon = 4;
  tm.tm_mday = 24;
  const auto now = std::chrono::system_clock::from_time_t(timegm(&tm));
  EXPECT_THAT(SignV4(request, {.access_key = "AKIAIOSFODNN7EXAMPLE",
                               .secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                               .region = "us-east-1"},
                     now),
              ::testing::ElementsAre(
                  "Host: examplebucket.s3.amazonaws.com", "X-Amz-Date: 20130524T000000Z",
                  "Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
                  "aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
                  "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"));
}

TEST(S3SignV4, DetectsHeadersCurlWouldMisorder) {
  EXPECT_TRUE(CurlMisordersHeaders({"x-amz-copy-source: /b/k", "x-amz-copy-source-range: bytes=0-1"}));
  EXPECT_TRUE(CurlMisordersHeaders({"X-Amz-Copy-Source-If-Match: \"e\"", "x-amz-copy-source: /b/k"}));
  EXPECT_FALSE(CurlMisordersHeaders({"x-amz-copy-source: /b/k", "x-amz-content-sha256: x"}));
  EXPECT_FALSE(CurlMisordersHeaders({"x-amz-meta-a: 1", "x-amz-meta-ab: 2"}));  // no '-': sorts right
  EXPECT_FALSE(CurlMisordersHeaders({}));
}

}  // namespace
}  // namespace tessera::storage::s3
