#include "storage/text_analysis.h"

#include <gtest/gtest.h>

namespace papr::storage {
namespace {

using Terms = std::vector<std::string>;

TEST(TextAnalysisTest, TokenizeLowercasesAndSplitsOnPunctuation) {
  EXPECT_EQ(Tokenize("Hello, World! It's 2024-05-01."),
            (Terms{"hello", "world", "it", "s", "2024", "05", "01"}));
  EXPECT_EQ(Tokenize(""), Terms{});
  EXPECT_EQ(Tokenize("  ...  "), Terms{});
  using namespace std::string_view_literals;
  EXPECT_EQ(Tokenize("snake_case\tand\nnew\0line"sv),
            (Terms{"snake", "case", "and", "new", "line"}));
}

TEST(TextAnalysisTest, TokenizeKeepsNonAsciiBytes) {
  EXPECT_EQ(Tokenize("Caf\xc3\xa9 na\xc3\xafve"), (Terms{"caf\xc3\xa9", "na\xc3\xafve"}));
  EXPECT_EQ(Tokenize("\xe6\x97\xa5\xe6\x9c\xac"), (Terms{"\xe6\x97\xa5\xe6\x9c\xac"}));
}

TEST(TextAnalysisTest, TokenizeTruncatesLongTermsOnCharacterBoundary) {
  auto terms = Tokenize(std::string(100, 'A'));
  ASSERT_EQ(terms.size(), 1u);
  EXPECT_EQ(terms[0], std::string(64, 'a'));

  // 63 ASCII bytes then a 2-byte character: byte 64 would split it.
  terms = Tokenize(std::string(63, 'a') + "\xc3\xa9" + "zz");
  ASSERT_EQ(terms.size(), 1u);
  EXPECT_EQ(terms[0], std::string(63, 'a'));
}

TEST(TextAnalysisTest, ForEachTermSeesTokenizesTermsWithoutCopies) {
  // A long run (cut to 64 bytes, on a character boundary) between short ones.
  std::string text = "One, " + std::string(63, 'B') + "\xc3\xa9" + std::string(200, 'c') + " two";
  Terms seen;
  ForEachTerm(text, [&](std::string_view term) { seen.emplace_back(term); });
  EXPECT_EQ(seen, (Terms{"one", std::string(63, 'b'), "two"}));
  EXPECT_EQ(seen, Tokenize(text));
}

TEST(TextAnalysisTest, CountWords) {
  EXPECT_EQ(CountWords(""), 0);
  EXPECT_EQ(CountWords("   "), 0);
  EXPECT_EQ(CountWords("one"), 1);
  EXPECT_EQ(CountWords("  one two\tthree\n\nfour  "), 4);
  EXPECT_EQ(CountWords("it's a well-known fact."), 4);
}

TEST(TextAnalysisTest, ExtractKeywordsByFrequencyThenFirstOccurrence) {
  std::string text =
      "The rocket engine failed. The rocket was rebuilt and the engine passed; rocket launch "
      "is on. It is an old launch pad.";
  EXPECT_EQ(ExtractKeywords(text, 4), (Terms{"rocket", "engine", "launch", "failed"}));
  EXPECT_EQ(ExtractKeywords(text, 0), Terms{});
}

TEST(TextAnalysisTest, ExtractKeywordsDropsStopWordsAndShortTerms) {
  EXPECT_EQ(ExtractKeywords("the and of to is it an a be we"), Terms{});
  EXPECT_EQ(ExtractKeywords("go ox dog"), Terms{"dog"});
  // Three characters, counted as characters rather than bytes.
  EXPECT_EQ(ExtractKeywords("\xc3\xa9t\xc3\xa9 \xc3\xa9t"), Terms{"\xc3\xa9t\xc3\xa9"});
}

TEST(TextAnalysisTest, ExtractKeywordsIsDeterministicAndBounded) {
  std::string text;
  for (int i = 0; i < 50; ++i) text += "word" + std::to_string(i) + " ";
  auto a = ExtractKeywords(text);
  EXPECT_EQ(a.size(), 10u);
  EXPECT_EQ(a.front(), "word0");
  EXPECT_EQ(a, ExtractKeywords(text));
}

}  // namespace
}  // namespace papr::storage
