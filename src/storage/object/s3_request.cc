#include "storage/object/s3_request.h"

#include <memory>

#include "storage/object/s3_object_store.h"
#include "storage/object/s3_xml.h"

namespace tessera::storage::s3 {

std::string StripQuotes(std::string etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') etag = etag.substr(1, etag.size() - 2);
  return etag;
}

S3Error ParseError(const std::string& body) {
  S3Error error;
  if (body.empty()) return error;
  Result<std::unique_ptr<XmlElement>> root = ParseXml(body);
  if (!root.ok() || (*root)->name != "Error") return error;
  error.code = (*root)->ChildText("Code");
  error.message = (*root)->ChildText("Message");
  return error;
}

bool RetryableCode(const std::string& code) {
  return code == "InternalError" || code == "SlowDown" || code == "ServiceUnavailable" ||
         code == "RequestTimeout" || code == "RequestTimeTooSkewed" || code == "Throttling";
}

bool RetryableHttp(const Response& response) {
  if (response.status >= 500 || response.status == 429) return true;
  if (response.status == 400) {
    const std::string code = ParseError(response.body).code;
    return code == "RequestTimeout";
  }
  return false;
}

Status ErrorStatus(const Response& response, const std::string& what) {
  const S3Error error = ParseError(response.body);
  std::string message = what + ": HTTP " + std::to_string(response.status);
  if (!error.code.empty()) message += " " + error.code;
  if (!error.message.empty()) message += ": " + error.message;
  switch (response.status) {
    case 404:
      return Status::NotFound(message);
    case 416:
      return Status::OutOfRange(message);
    case 401:
    case 403:
      return Status::PermissionDenied(message);
    case 409:
    case 412:
      return Status::FailedPrecondition(message);
    default:
      break;
  }
  if (response.status >= 500 || response.status == 429 || RetryableCode(error.code)) {
    return Status::Unavailable(message);
  }
  if (error.code == "InvalidAccessKeyId" || error.code == "SignatureDoesNotMatch" ||
      error.code == "AccessDenied" || error.code == "ExpiredToken") {
    return Status::PermissionDenied(message);
  }
  return Status::InvalidArgument(message);
}

std::string QueryParam(std::string_view name, std::string_view value) {
  return std::string(name) + "=" + UriEncode(value, false);
}

}  // namespace tessera::storage::s3
