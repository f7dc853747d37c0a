#include "storage/object/s3_object_store.h"

#include <gtest/gtest.h>

#include "storage/object/swift_test_server.h"

namespace tessera::storage {
namespace {

TEST(S3UriEncode, KeepsUnreservedAndSlash) {
  EXPECT_EQ("a/b-c_d.e~f", s3::UriEncode("a/b-c_d.e~f", true));
  EXPECT_EQ("a%2Fb", s3::UriEncode("a/b", false));
  EXPECT_EQ("sp%20ace%2Bplus%3D%26%25%3F%23", s3::UriEncode("sp ace+plus=&%?#", true));
  EXPECT_EQ("%C3%A9", s3::UriEncode("\xc3\xa9", true));
}

TEST(S3Digests, KnownValues) {
  EXPECT_EQ("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", s3::Sha256Hex(""));
  EXPECT_EQ("1B2M2Y8AsgTpgAmY7PhCfg==", s3::Md5Base64(""));
}

}  // namespace
}  // namespace tessera::storage
