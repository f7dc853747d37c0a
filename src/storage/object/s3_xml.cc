#include "storage/object/s3_xml.h"

#include <expat.h>

#include <cstring>

namespace tessera::storage::s3 {

const XmlElement* XmlElement::Child(std::string_view child_name) const {
  for (const auto& child : children) {
    if (child->name == child_name) return child.get();
  }
  return nullptr;
}

std::string XmlElement::ChildText(std::string_view child_name) const {
  const XmlElement* child = Child(child_name);
  return child ? child->text : std::string();
}

std::vector<const XmlElement*> XmlElement::Children(std::string_view child_name) const {
  std::vector<const XmlElement*> out;
  for (const auto& child : children) {
    if (child->name == child_name) out.push_back(child.get());
  }
  return out;
}

namespace {

struct ParseState {
  std::unique_ptr<XmlElement> root;
  std::vector<XmlElement*> stack;
};

void OnStart(void* data, const XML_Char* name, const XML_Char** /*attrs*/) {
  auto* state = static_cast<ParseState*>(data);
  auto element = std::make_unique<XmlElement>();
  // Namespaced names come as "uri|local" (separator '|'); keep the local part.
  const char* bar = std::strrchr(name, '|');
  element->name = bar ? bar + 1 : name;
  XmlElement* raw = element.get();
  if (state->stack.empty()) {
    state->root = std::move(element);
  } else {
    state->stack.back()->children.push_back(std::move(element));
  }
  state->stack.push_back(raw);
}

void OnEnd(void* data, const XML_Char* /*name*/) {
  auto* state = static_cast<ParseState*>(data);
  if (!state->stack.empty()) state->stack.pop_back();
}

void OnText(void* data, const XML_Char* text, int len) {
  auto* state = static_cast<ParseState*>(data);
  if (!state->stack.empty()) state->stack.back()->text.append(text, static_cast<size_t>(len));
}

}  // namespace

Result<std::unique_ptr<XmlElement>> ParseXml(std::string_view body) {
  if (body.empty()) return Status::InvalidArgument("empty XML document");
  XML_Parser parser = XML_ParserCreateNS(nullptr, '|');
  if (parser == nullptr) return Status::Internal("XML_ParserCreateNS failed");
  ParseState state;
  XML_SetUserData(parser, &state);
  XML_SetElementHandler(parser, OnStart, OnEnd);
  XML_SetCharacterDataHandler(parser, OnText);
  Status status;
  size_t done = 0;
  // XML_Parse takes an int length; feed large bodies in chunks.
  while (status.ok()) {
    const size_t chunk = std::min<size_t>(body.size() - done, 1 << 30);
    const bool last = done + chunk == body.size();
    if (XML_Parse(parser, body.data() + done, static_cast<int>(chunk), last) == XML_STATUS_ERROR) {
      status = Status::DataLoss(std::string("malformed XML: ") +
                                XML_ErrorString(XML_GetErrorCode(parser)) + " at line " +
                                std::to_string(XML_GetCurrentLineNumber(parser)));
    }
    done += chunk;
    if (last) break;
  }
  XML_ParserFree(parser);
  if (!status.ok()) return status;
  if (!state.root) return Status::DataLoss("XML document without a root element");
  return std::move(state.root);
}

std::string XmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace tessera::storage::s3
