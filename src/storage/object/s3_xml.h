#pragma once
// PRIVATE header of the S3 store: a minimal XML tree for S3 responses (expat).

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace tessera::storage::s3 {

/// One XML element: local name (namespace prefix dropped), concatenated character data,
/// and children in document order. Attributes are not kept (S3 responses carry none we
/// need). Plain value type; not thread-safe to mutate.
struct XmlElement {
  std::string name;
  std::string text;
  std::vector<std::unique_ptr<XmlElement>> children;

  /// The first child named `name`, or nullptr.
  const XmlElement* Child(std::string_view child_name) const;
  /// The text of the first child named `name`, or "" if there is none.
  std::string ChildText(std::string_view child_name) const;
  /// Every child named `name`.
  std::vector<const XmlElement*> Children(std::string_view child_name) const;
};

/// Parses a whole document. Malformed XML (untrusted network bytes) is DataLoss naming
/// expat's error and position; an empty body is InvalidArgument.
Result<std::unique_ptr<XmlElement>> ParseXml(std::string_view body);

/// Escapes &, <, >, " and ' for element text.
std::string XmlEscape(std::string_view text);

}  // namespace tessera::storage::s3
