// s3_bench: PUT and GET throughput of S3ObjectStore against a Swift s3api server it starts
// on loopback, side by side with Debian's `aws s3 cp` (AWS CLI v2) on the same objects in
// the same run. A figures tool, not a test.
//
//   build/src/storage/object/s3_bench [--aws /usr/bin/aws]
//
// For each size (64 KiB x 64 objects, 8 MiB x 8, 256 MiB x 1) both clients move the same
// bytes with up to 10 requests in flight (the AWS CLI's default max_concurrent_requests);
// the AWS CLI runs once per direction with --recursive over a folder of the objects.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "common/thread_pool.h"
#include "storage/object/swift_test_server.h"

namespace tessera::storage {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::string out(n, '\0');
  for (size_t i = 0; i + 8 <= n; i += 8) {
    const uint64_t v = rng();
    std::memcpy(out.data() + i, &v, 8);
  }
  return out;
}

int Run(const std::string& aws) {
  auto server = testing::SwiftTestServer::Start();
  if (!server.ok()) {
    std::fprintf(stderr, "s3_bench: cannot start Swift: %s\n", server.status().ToString().c_str());
    return 1;
  }
  S3Options options = (*server)->BaseOptions();
  auto store = (*server)->NewBucketStore(options);
  if (!store.ok()) {
    std::fprintf(stderr, "s3_bench: %s\n", store.status().ToString().c_str());
    return 1;
  }
  const S3Options& used = (*store)->options();
  const std::filesystem::path work = std::filesystem::temp_directory_path() / ("s3_bench_" + std::to_string(getpid()));
  const std::string env = "AWS_ACCESS_KEY_ID='" + used.access_key + "' AWS_SECRET_ACCESS_KEY='" +
                          used.secret_key + "' AWS_DEFAULT_REGION=" + used.region +
                          " AWS_EC2_METADATA_DISABLED=true ";
  const std::string endpoint = " --endpoint-url " + used.endpoint + " --only-show-errors";
  ThreadPool pool(10, "s3_bench");

  std::printf("%-8s %6s | %12s %12s | %12s %12s | %9s %9s\n", "size", "count", "tessera PUT",
              "tessera GET", "aws PUT", "aws GET", "PUT ratio", "GET ratio");
  struct Case {
    const char* name;
    size_t bytes;
    size_t count;
  };
  for (const Case& c : {Case{"64KiB", 64 << 10, 64}, Case{"8MiB", 8 << 20, 8}, Case{"256MiB", size_t{256} << 20, 1}}) {
    const std::string data = RandomBytes(c.bytes, static_cast<uint32_t>(c.bytes));
    const double mb = static_cast<double>(c.bytes * c.count) / 1e6;
    // Tessera: up to 10 requests in flight.
    std::vector<Status> results(c.count);
    auto start = Clock::now();
    pool.ParallelFor(c.count, [&](size_t i) {
      results[i] = (*store)->Put("t/" + std::string(c.name) + "/" + std::to_string(i), data);
    });
    const double put_s = Seconds(start);
    start = Clock::now();
    pool.ParallelFor(c.count, [&](size_t i) {
      auto got = (*store)->Get("t/" + std::string(c.name) + "/" + std::to_string(i));
      results[i] = !got.ok() ? got.status() : (*got == data ? Status::OK() : Status::DataLoss("mismatch"));
    });
    const double get_s = Seconds(start);
    for (const Status& s : results) {
      if (!s.ok()) {
        std::fprintf(stderr, "s3_bench: %s\n", s.ToString().c_str());
        return 1;
      }
    }
    // AWS CLI: the same objects from a folder, one process per direction.
    const auto up = work / "up" / c.name;
    const auto down = work / "down" / c.name;
    std::filesystem::create_directories(up);
    std::filesystem::create_directories(down);
    for (size_t i = 0; i < c.count; ++i) std::ofstream(up / std::to_string(i), std::ios::binary) << data;
    const std::string remote = " s3://" + used.bucket + "/a/" + c.name + "/";
    start = Clock::now();
    const int put_rc = std::system((env + aws + " s3 cp --recursive " + up.string() + remote + endpoint).c_str());
    const double aws_put_s = Seconds(start);
    start = Clock::now();
    const int get_rc = std::system((env + aws + " s3 cp --recursive" + remote + " " + down.string() + endpoint).c_str());
    const double aws_get_s = Seconds(start);
    if (put_rc != 0 || get_rc != 0) {
      std::fprintf(stderr, "s3_bench: aws s3 cp failed (%d, %d)\n", put_rc, get_rc);
      return 1;
    }
    std::filesystem::remove_all(work / "up" / c.name);
    std::filesystem::remove_all(work / "down" / c.name);
    std::printf("%-8s %6zu | %8.1f MB/s %8.1f MB/s | %8.1f MB/s %8.1f MB/s | %8.2fx %8.2fx\n", c.name, c.count,
                mb / put_s, mb / get_s, mb / aws_put_s, mb / aws_get_s, aws_put_s / put_s, aws_get_s / get_s);
    std::fflush(stdout);
  }
  std::filesystem::remove_all(work);
  return 0;
}

}  // namespace
}  // namespace tessera::storage

int main(int argc, char** argv) {
  std::string aws = "/usr/bin/aws";
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == "--aws") aws = argv[i + 1];
  }
  return tessera::storage::Run(aws);
}
