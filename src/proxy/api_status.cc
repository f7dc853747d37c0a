#include "proxy/api_status.h"

#include <string>

namespace tessera::proxy {

ApiStatus EmptyBodyError() {
  return {code::kBadJson,
          "can only accept json format request, the request body should be nil, however {} is valid"};
}

ApiStatus BadJsonError(std::string_view detail) {
  return {code::kBadJson, "can only accept json format request, error: " + std::string(detail)};
}

ApiStatus MissingRequiredError(std::string_view owner, std::string_view field) {
  std::string f(field);
  return {code::kMissingRequired, "missing required parameters, error: Key: '" + std::string(owner) + "." + f +
                                      "' Error:Field validation for '" + f + "' failed on the 'required' tag"};
}

ApiStatus InvalidParameterError(std::string_view detail) {
  return {code::kInvalidParameter, std::string(detail) + ": invalid parameter"};
}

ApiStatus InsertDataError(std::string_view detail) {
  return {code::kInsertData, "fail to deal the insert data, error: " + std::string(detail)};
}

ApiStatus PrimaryKeyError(std::string_view detail) {
  return {code::kPrimaryKey,
          "please check the primary key and its' type can only in [int, string], error: " + std::string(detail)};
}

}  // namespace tessera::proxy
