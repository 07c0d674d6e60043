#include "workflows/document_chunker.h"
#include "workflows/document_text.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/support/pdf_maker.h"

namespace papr::workflows {
namespace {

constexpr size_t kNoLimit = 1 << 30;

TEST(DocumentTextTest, APdfGivesTheTextOfEachPage) {
  std::string pdf = testing::MakeTextPdf({"First page says hello.", "Second (page) says goodbye."});
  auto text = ExtractDocumentText(pdf, "x.pdf", "application/pdf", kNoLimit);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_EQ(text->format, DocumentFormat::kPdf);
  ASSERT_EQ(text->pages.size(), 2u);
  EXPECT_NE(text->pages[0].find("First page says hello."), std::string::npos) << text->pages[0];
  EXPECT_NE(text->pages[1].find("Second (page) says goodbye."), std::string::npos);
}

TEST(DocumentTextTest, TextAndMarkdownAreOnePageAndTheNameOrTypeSaysWhichItIs) {
  auto md = ExtractDocumentText("# Title\n\nBody.", "notes.MD", "", kNoLimit);
  ASSERT_TRUE(md.ok());
  EXPECT_EQ(md->format, DocumentFormat::kMarkdown);
  EXPECT_EQ(md->pages, std::vector<std::string>{"# Title\n\nBody."});
  auto typed = ExtractDocumentText("Body.", "blob", "text/markdown", kNoLimit);
  ASSERT_TRUE(typed.ok());
  EXPECT_EQ(typed->format, DocumentFormat::kMarkdown);
  auto plain = ExtractDocumentText("Body.", "a.txt", "text/plain", kNoLimit);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->format, DocumentFormat::kText);
}

TEST(DocumentTextTest, WhatIsNeitherTextNorAReadablePdfIsRefusedSayingWhy) {
  EXPECT_EQ(ExtractDocumentText(std::string("\xff\xfe\x00\x01", 4), "a.bin", "", kNoLimit)
                .status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ExtractDocumentText(std::string("ok\0ok", 5), "a.txt", "", kNoLimit).status().code(),
            StatusCode::kInvalidArgument);
  auto damaged = ExtractDocumentText("%PDF-1.4\nnot really", "a.pdf", "", kNoLimit);
  EXPECT_EQ(damaged.status().code(), StatusCode::kInvalidArgument);
  auto blank = ExtractDocumentText(" \n\t ", "a.txt", "", kNoLimit);
  EXPECT_EQ(blank.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(blank.status().message().find("no text"), std::string::npos);
}

TEST(DocumentTextTest, TextPastTheLimitStopsTheExtraction) {
  std::string page;
  for (int line = 0; line < 8; ++line) page += std::string(80, 'a') + "\n";
  std::vector<std::string> pages(20, page);  // 20 x 640 bytes
  auto pdf = ExtractDocumentText(testing::MakeTextPdf(pages), "a.pdf", "", 5000);
  EXPECT_EQ(pdf.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(ExtractDocumentText(std::string(5001, 'a'), "a.txt", "", 5000).status().code(),
            StatusCode::kResourceExhausted);
}

DocumentText Text(std::vector<std::string> pages) {
  DocumentText t;
  t.pages = std::move(pages);
  return t;
}

TEST(DocumentChunkerTest, ChunksStayUnderTheSizeEndOnSentencesAndCoverEverySentence) {
  std::string page;
  std::vector<std::string> sentences;
  for (int i = 0; i < 300; ++i) {
    sentences.push_back("Sentence number " + std::to_string(i) + " is about topic " +
                        std::to_string(i % 7) + ".");
    page += sentences.back() + (i % 10 == 9 ? "\n\n" : " ");
  }
  auto chunks = ChunkDocument(Text({page}), {500, 100});
  ASSERT_GT(chunks.size(), 10u);
  std::string all;
  for (const auto& c : chunks) {
    EXPECT_LE(c.text.size(), 500u);
    EXPECT_EQ(c.text.back(), '.') << c.text;  // a sentence boundary
    all += c.text + " ";
  }
  for (const auto& s : sentences) EXPECT_NE(all.find(s), std::string::npos) << s;
}

TEST(DocumentChunkerTest, EachChunkStartsWithTheLastSentencesOfTheOneBefore) {
  std::string page;
  for (int i = 0; i < 60; ++i) page += "Fact " + std::to_string(i) + " holds. ";
  auto chunks = ChunkDocument(Text({page}), {200, 40});
  ASSERT_GE(chunks.size(), 3u);
  for (size_t i = 1; i < chunks.size(); ++i) {
    const std::string& prev = chunks[i - 1].text;
    const std::string& next = chunks[i].text;
    const std::string last = prev.substr(prev.rfind("Fact "));  // the sentence "Fact N holds."
    const std::string first = next.substr(0, next.find('.') + 1);
    // What the chunk starts with is where the one before ends, within the overlap.
    EXPECT_NE(prev.find(first), std::string::npos) << "chunk " << i << ": " << next;
    EXPECT_LE(next.find(last) + last.size(), 40u) << "chunk " << i << ": " << next;
  }
}

TEST(DocumentChunkerTest, AParagraphEndIsPreferredToFillingTheChunk) {
  std::string para_a(300, 'a'), para_b(300, 'b');
  auto chunks = ChunkDocument(Text({para_a + ".\n\n" + para_b + "."}), {500, 0});
  ASSERT_EQ(chunks.size(), 2u);
  EXPECT_EQ(chunks[0].text, para_a + ".");
  EXPECT_EQ(chunks[1].text, para_b + ".");
}

TEST(DocumentChunkerTest, ALongSentenceIsCutOnSpacesOrCharacterBoundariesAndPagesAreKept) {
  std::string words;
  for (int i = 0; i < 100; ++i) words += "wörd" + std::to_string(i) + " ";
  std::string runon(700, 'x');
  runon.replace(100, 2, "\xc3\xa9");  // a two-byte character near where a cut may fall
  auto chunks = ChunkDocument(Text({words, runon, "Last page."}), {200, 0});
  for (const auto& c : chunks) {
    EXPECT_LE(c.text.size(), 200u);
    EXPECT_NE(static_cast<unsigned char>(c.text.back()) & 0xC0, 0x80u) << "cut inside a character";
  }
  EXPECT_EQ(chunks.front().first_page, 1);
  EXPECT_EQ(chunks.back().last_page, 3);
  EXPECT_EQ(chunks.back().text.substr(chunks.back().text.size() - 10), "Last page.");
}

TEST(DocumentChunkerTest, ControlCharactersAndWhitespaceRunsBecomeOneSpace) {
  auto chunks = ChunkDocument(Text({"a\t\tb\x01\x02 c\r\nd"}), {});
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_EQ(chunks[0].text, "a b c d");
}

}  // namespace
}  // namespace papr::workflows
