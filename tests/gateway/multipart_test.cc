#include "gateway/rest/multipart.h"

#include <gtest/gtest.h>

namespace tern::gateway::rest {
namespace {

std::string Body(const std::string& boundary, const std::vector<std::string>& parts) {
  std::string body;
  for (const auto& part : parts) body += "--" + boundary + "\r\n" + part + "\r\n";
  return body + "--" + boundary + "--\r\n";
}

TEST(MultipartBoundary, TakesTheBoundaryParameter) {
  EXPECT_EQ(*MultipartBoundary("multipart/form-data; boundary=abc"), "abc");
  EXPECT_EQ(*MultipartBoundary("Multipart/Form-Data;charset=utf-8; boundary=\"a b;c\""), "a b;c");
  EXPECT_FALSE(MultipartBoundary("application/json").ok());
  EXPECT_FALSE(MultipartBoundary("multipart/form-data").ok());
  EXPECT_FALSE(MultipartBoundary("multipart/form-data; boundary=").ok());
  EXPECT_FALSE(MultipartBoundary("multipart/form-data; boundary=" + std::string(71, 'x')).ok());
}

TEST(ParseMultipart, ReadsFilesAndFields) {
  std::string body =
      Body("XyZ",
           {"Content-Disposition: form-data; name=\"resources\"; filename=\"a.bpmn\"\r\n"
            "Content-Type: application/xml\r\n\r\n<xml>\r\nwith lines</xml>",
            "content-disposition: form-data; name=\"tenantId\"\r\n\r\n<default>",
            "Content-Disposition: form-data; name=\"resources\"; filename=\"empty.form\"\r\n\r\n"});
  auto parts = ParseMultipart(body, "XyZ");
  ASSERT_TRUE(parts.ok()) << parts.status();
  ASSERT_EQ(parts->size(), 3u);
  EXPECT_EQ((*parts)[0].name, "resources");
  EXPECT_EQ((*parts)[0].filename, "a.bpmn");
  EXPECT_EQ((*parts)[0].content_type, "application/xml");
  EXPECT_EQ((*parts)[0].content, "<xml>\r\nwith lines</xml>");
  EXPECT_EQ((*parts)[1].name, "tenantId");
  EXPECT_EQ((*parts)[1].filename, "");
  EXPECT_EQ((*parts)[1].content, "<default>");
  EXPECT_EQ((*parts)[2].content, "");
}

TEST(ParseMultipart, IgnoresPreambleAndEpilogue) {
  std::string body = "preamble\r\n" +
                     Body("b", {"Content-Disposition: form-data; name=\"x\"\r\n\r\n1"}) +
                     "epilogue";
  auto parts = ParseMultipart(body, "b");
  ASSERT_TRUE(parts.ok()) << parts.status();
  ASSERT_EQ(parts->size(), 1u);
  EXPECT_EQ((*parts)[0].content, "1");
}

TEST(ParseMultipart, ContentMayContainTheBoundaryTextNotAtALineStart) {
  auto parts =
      ParseMultipart(Body("b", {"Content-Disposition: form-data; name=\"x\"\r\n\r\na--b c"}), "b");
  ASSERT_TRUE(parts.ok()) << parts.status();
  EXPECT_EQ((*parts)[0].content, "a--b c");
}

TEST(ParseMultipart, RefusesMalformedBodies) {
  // No delimiter at all, an unterminated part, a part without a name, a header without ':'.
  EXPECT_FALSE(ParseMultipart("hello", "b").ok());
  EXPECT_FALSE(
      ParseMultipart("--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nabc", "b").ok());
  EXPECT_FALSE(ParseMultipart(Body("b", {"Content-Disposition: form-data\r\n\r\nx"}), "b").ok());
  EXPECT_FALSE(ParseMultipart(Body("b", {"Content-Disposition form-data\r\n\r\nx"}), "b").ok());
  EXPECT_FALSE(ParseMultipart(Body("b", {"Content-Type: text/plain\r\n\r\nx"}), "b").ok());
  EXPECT_FALSE(ParseMultipart("--b\r\nContent-Disposition: form-data; name=\"x\"", "b").ok());
}

TEST(ParseMultipart, BoundsPartsAndHeaders) {
  std::vector<std::string> many(11, "Content-Disposition: form-data; name=\"x\"\r\n\r\n1");
  MultipartLimits limits;
  limits.max_parts = 10;
  EXPECT_FALSE(ParseMultipart(Body("b", many), "b", limits).ok());
  many.pop_back();
  EXPECT_TRUE(ParseMultipart(Body("b", many), "b", limits).ok());
  limits.max_part_header_bytes = 64;
  std::string long_header =
      "Content-Disposition: form-data; name=\"" + std::string(100, 'n') + "\"\r\n\r\n1";
  EXPECT_FALSE(ParseMultipart(Body("b", {long_header}), "b", limits).ok());
}

}  // namespace
}  // namespace tern::gateway::rest
