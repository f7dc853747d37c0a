// S3ObjectStore's multipart uploads: Put of a large object (UploadPart of slices of the
// caller's bytes) and Copy of a large object (UploadPart of ranged GETs of the source),
// both through MultipartUpload, which aborts the upload on any failure; and
// ListMultipartUploads.

#include <algorithm>
#include <atomic>
#include <mutex>

#include "common/logging.h"
#include "common/thread_pool.h"
#include "storage/object/s3_object_store.h"
#include "storage/object/s3_request.h"
#include "storage/object/s3_xml.h"

namespace tessera::storage {

using s3::Request;
using s3::Response;

namespace {

constexpr uint64_t kMaxParts = 10000;  // S3's limit per upload
constexpr uint64_t kMiB = 1 << 20;

std::string PartLabel(size_t part, size_t parts) {
  return std::to_string(part + 1) + "/" + std::to_string(parts);
}

}  // namespace

uint64_t S3ObjectStore::PartSize(uint64_t object_size) const {
  const uint64_t needed = (object_size + kMaxParts - 1) / kMaxParts;
  if (needed <= options_.part_size) return options_.part_size;
  return (needed + kMiB - 1) / kMiB * kMiB;
}

Status S3ObjectStore::AbortMultipart(const std::string& full_key, const std::string& upload_id) {
  Request request;
  request.method = "DELETE";
  request.resource = "/" + s3::UriEncode(full_key, true);
  request.query = s3::QueryParam("uploadId", upload_id);
  request.what = "S3 AbortMultipartUpload " + internal::QuoteKey(full_key);
  TESSERA_ASSIGN_OR_RETURN(Response response, Execute(request));
  if (!s3::Is2xx(response) && response.status != 404) return s3::ErrorStatus(response, request.what);
  return Status::OK();
}

Status S3ObjectStore::MultipartUpload(const std::string& full_key, size_t parts, uint64_t size,
                                      const UploadPartFn& upload_part,
                                      const std::function<Status()>& before_complete) {
  const std::string resource = "/" + s3::UriEncode(full_key, true);
  const std::string quoted = internal::QuoteKey(full_key);
  Request init;
  init.method = "POST";
  init.resource = resource;
  init.query = "uploads=";
  init.body = std::string_view();
  init.what = "S3 CreateMultipartUpload " + quoted;
  TESSERA_ASSIGN_OR_RETURN(Response init_response, Execute(init));
  if (!s3::Is2xx(init_response)) return s3::ErrorStatus(init_response, init.what);
  auto init_xml = s3::ParseXml(init_response.body);
  if (!init_xml.ok()) return init_xml.status().WithContext(init.what);
  const std::string upload_id = (*init_xml)->ChildText("UploadId");
  if (upload_id.empty()) return Status::DataLoss(init.what + ": no UploadId in the response");

  std::vector<std::string> etags(parts);
  std::mutex mu;
  Status first_error;  // guarded by mu
  std::atomic<bool> failed{false};
  upload_pool_->ParallelFor(parts, [&](size_t part) {
    if (failed.load()) return;  // stop starting parts once one failed
    Result<std::string> etag = upload_part(part, upload_id);
    if (etag.ok()) {
      etags[part] = std::move(*etag);
      return;
    }
    std::lock_guard<std::mutex> lock(mu);
    if (first_error.ok()) first_error = etag.status();
    failed = true;
  });
  auto abort_with = [&](Status status) {
    Status aborted = AbortMultipart(full_key, upload_id);
    if (!aborted.ok()) {
      TESSERA_LOG_WARN("S3: could not abort multipart upload {} of {}: {}", upload_id, quoted,
                       aborted.ToString());
    }
    return status;
  };
  if (failed.load()) return abort_with(first_error);
  if (before_complete) {
    Status ready = before_complete();
    if (!ready.ok()) return abort_with(ready);
  }

  std::string xml = "<CompleteMultipartUpload>";
  for (size_t part = 0; part < parts; ++part) {
    xml += "<Part><PartNumber>" + std::to_string(part + 1) + "</PartNumber><ETag>" +
           s3::XmlEscape(etags[part]) + "</ETag></Part>";
  }
  xml += "</CompleteMultipartUpload>";
  Request complete;
  complete.method = "POST";
  complete.resource = resource;
  complete.query = s3::QueryParam("uploadId", upload_id);
  complete.body = xml;
  complete.error_in_200 = true;
  complete.what = "S3 CompleteMultipartUpload " + quoted;
  const uint64_t retries_before = retries_.load();
  Result<Response> response = Execute(complete);
  if (!response.ok()) return abort_with(response.status());
  if (!s3::Is2xx(*response)) {
    // A retried Complete whose first attempt succeeded (response lost) finds the upload
    // gone: accept it if the object now has the expected size.
    if (response->status == 404 && s3::ParseError(response->body).code == "NoSuchUpload" &&
        retries_.load() != retries_before) {
      Result<ObjectInfo> info = Head(std::string_view(full_key).substr(options_.prefix.size()));
      if (info.ok() && info->size == size) return Status::OK();
    }
    return abort_with(s3::ErrorStatus(*response, complete.what));
  }
  return Status::OK();
}

Status S3ObjectStore::PutMultipart(const std::string& full_key, std::string_view data) {
  const uint64_t part_size = PartSize(data.size());
  const size_t parts = static_cast<size_t>((data.size() + part_size - 1) / part_size);
  const std::string resource = "/" + s3::UriEncode(full_key, true);
  const std::string quoted = internal::QuoteKey(full_key);
  return MultipartUpload(full_key, parts, data.size(),
                         [&](size_t part, const std::string& upload_id) -> Result<std::string> {
    Request request;
    request.method = "PUT";
    request.resource = resource;
    request.query = "partNumber=" + std::to_string(part + 1) + "&" + s3::QueryParam("uploadId", upload_id);
    request.body = data.substr(part * part_size, part_size);
    request.sign_body = !options_.unsigned_payload;
    request.what = "S3 UploadPart " + PartLabel(part, parts) + " " + quoted;
    TESSERA_ASSIGN_OR_RETURN(Response response, Execute(request));
    if (!s3::Is2xx(response)) return s3::ErrorStatus(response, request.what);
    std::string etag = response.Header("etag");
    if (etag.empty()) return Status::DataLoss(request.what + ": no ETag in the response");
    return etag;
  });
}

Status S3ObjectStore::CopyMultipart(const std::string& full_src, const std::string& full_dst,
                                    const ObjectInfo& source) {
  const uint64_t part_size = PartSize(source.size);
  const size_t parts = static_cast<size_t>((source.size + part_size - 1) / part_size);
  const std::string resource = "/" + s3::UriEncode(full_dst, true);
  const std::string label = internal::QuoteKey(full_src) + " -> " + internal::QuoteKey(full_dst);
  return MultipartUpload(full_dst, parts, source.size,
                         [&](size_t part, const std::string& upload_id) -> Result<std::string> {
    // Through this node: a ranged GET of the part, then UploadPart. (UploadPartCopy would
    // keep the bytes on the server, but curl before 8.10 signs its x-amz-copy-source-range
    // header in the wrong order, curl PR #14370, and Tessera leaves SigV4 to curl.)
    const uint64_t first = part * part_size;
    const uint64_t length = std::min(source.size, first + part_size) - first;
    const std::string range = "bytes " + std::to_string(first) + "-" + std::to_string(first + length - 1);
    TESSERA_ASSIGN_OR_RETURN(std::string bytes,
                             GetRange(std::string_view(full_src).substr(options_.prefix.size()), first, length));
    if (bytes.size() != length) {
      return Status::Aborted("S3 Copy " + label + ": the source shrank during the copy (" + range + " gave " +
                             std::to_string(bytes.size()) + " bytes)");
    }
    Request request;
    request.method = "PUT";
    request.resource = resource;
    request.query = "partNumber=" + std::to_string(part + 1) + "&" + s3::QueryParam("uploadId", upload_id);
    request.body = bytes;
    request.sign_body = !options_.unsigned_payload;
    request.what = "S3 UploadPart " + PartLabel(part, parts) + " of Copy " + label + " (" + range + ")";
    TESSERA_ASSIGN_OR_RETURN(Response response, Execute(request));
    if (!s3::Is2xx(response)) return s3::ErrorStatus(response, request.what);
    std::string etag = response.Header("etag");
    if (etag.empty()) return Status::DataLoss(request.what + ": no ETag in the response");
    return etag;
  }, [&]() -> Status {
    // Every part came from the version Copy looked at only if the source still has its
    // ETag now. (Not x-amz-copy-source-if-match per part: Swift s3api 2.30 compares it
    // with the Swift ETag of a multipart source, not the S3 one, and always answers 412.)
    Result<ObjectInfo> now = Head(std::string_view(full_src).substr(options_.prefix.size()));
    if (!now.ok()) return now.status().WithContext("S3 Copy " + label + ": source gone during the copy");
    if (now->etag != source.etag || now->size != source.size) {
      return Status::Aborted("S3 Copy " + label + ": the source changed during the copy (ETag " + source.etag +
                             " -> " + now->etag + "); nothing was written, try again");
    }
    return Status::OK();
  });
}

Result<std::vector<std::string>> S3ObjectStore::ListMultipartUploads() {
  std::vector<std::string> keys;
  std::string key_marker, upload_marker;
  while (true) {
    Request request;
    request.method = "GET";
    if (!key_marker.empty()) request.query += s3::QueryParam("key-marker", key_marker) + "&";
    request.query += s3::QueryParam("prefix", options_.prefix);
    if (!upload_marker.empty()) request.query += "&" + s3::QueryParam("upload-id-marker", upload_marker);
    request.query += "&uploads=";
    request.what = "S3 ListMultipartUploads";
    TESSERA_ASSIGN_OR_RETURN(Response response, Execute(request));
    if (!s3::Is2xx(response)) return s3::ErrorStatus(response, request.what);
    auto xml = s3::ParseXml(response.body);
    if (!xml.ok()) return xml.status().WithContext(request.what);
    for (const s3::XmlElement* upload : (*xml)->Children("Upload")) {
      const std::string key = upload->ChildText("Key");
      keys.push_back(key.substr(std::min(options_.prefix.size(), key.size())));
    }
    if ((*xml)->ChildText("IsTruncated") != "true") break;
    key_marker = (*xml)->ChildText("NextKeyMarker");
    upload_marker = (*xml)->ChildText("NextUploadIdMarker");
    if (key_marker.empty()) break;
  }
  return keys;
}

}  // namespace tessera::storage
