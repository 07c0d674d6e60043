#include "storage/memory_store.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <mutex>
#include <unordered_map>
#include <utility>

#include "storage/keys.h"
#include "storage/text_analysis.h"

namespace papr::storage {
namespace {

constexpr size_t kStripes = 64;
constexpr double kK1 = 1.2;
constexpr double kB = 0.75;
// Bounds the work of one query term; df of a term with more postings is taken as the cap.
constexpr size_t kMaxPostingsPerTerm = 200'000;

// Ids become key parts followed by '\0', so they must be non-empty and free of NUL.
Status ValidateUserId(std::string_view user_id) {
  if (user_id.empty() || user_id.find('\0') != std::string_view::npos) {
    return Status::InvalidArgument("user id must be non-empty and contain no NUL byte");
  }
  return Status::Ok();
}

Status ValidateIds(std::string_view user_id, std::string_view memory_id) {
  RETURN_IF_ERROR(ValidateUserId(user_id));
  if (memory_id.empty() || memory_id.find('\0') != std::string_view::npos) {
    return Status::InvalidArgument("memory id must be non-empty and contain no NUL byte");
  }
  return Status::Ok();
}

// Distinct terms of `content` with their frequencies, sorted by term; `doc_len` gets the
// number of tokens.
std::vector<std::pair<std::string, uint64_t>> TermFrequencies(std::string_view content,
                                                              uint64_t* doc_len) {
  std::vector<std::string> tokens = Tokenize(content);
  *doc_len = tokens.size();
  std::sort(tokens.begin(), tokens.end());
  std::vector<std::pair<std::string, uint64_t>> tf;
  for (auto& t : tokens) {
    if (!tf.empty() && tf.back().first == t) {
      ++tf.back().second;
    } else {
      tf.emplace_back(std::move(t), 1);
    }
  }
  return tf;
}

std::vector<std::string> DistinctTerms(std::string_view text) {
  std::vector<std::string> terms = Tokenize(text);
  std::sort(terms.begin(), terms.end());
  terms.erase(std::unique(terms.begin(), terms.end()), terms.end());
  return terms;
}

}  // namespace

struct MemoryStore::Rep {
  Db* db;
  std::array<std::mutex, kStripes> stripes;

  std::mutex& StripeFor(std::string_view user_id, std::string_view memory_id) {
    size_t h =
        std::hash<std::string_view>()(user_id) * 31 + std::hash<std::string_view>()(memory_id);
    return stripes[h % kStripes];
  }

  // Adds the BM25 contribution of one term's postings to `scores`.
  Status ScoreTerm(std::string_view user_id, const std::string& term, double doc_count,
                   double avgdl, std::unordered_map<std::string, double>* scores) const;
};

MemoryStore::MemoryStore(Db* db) : rep_(std::make_unique<Rep>()) { rep_->db = db; }

MemoryStore::~MemoryStore() = default;

Result<bool> MemoryStore::PrepareWrite(const MemoryRecord& record, WriteBatch* batch) const {
  RETURN_IF_ERROR(ValidateIds(record.user_id, record.id));
  std::string key = MemoryKey(record.user_id, record.id);
  ASSIGN_OR_RETURN(std::optional<std::string> existing, rep_->db->Get(Table::kMemories, key));
  if (existing.has_value()) return false;
  uint64_t doc_len = 0;
  auto terms = TermFrequencies(record.content, &doc_len);
  batch->Put(Table::kMemories, key, EncodeMemoryRecord(record));
  for (const auto& [term, tf] : terms) {
    batch->Put(Table::kPostings, PostingKey(record.user_id, term, record.id),
               EncodePostingValue(tf, doc_len));
  }
  batch->AddCounters(Table::kUserStats, UserStatsKey(record.user_id), 1,
                     static_cast<int64_t>(doc_len));
  return true;
}

Result<bool> MemoryStore::Put(const MemoryRecord& record) {
  RETURN_IF_ERROR(ValidateIds(record.user_id, record.id));
  std::lock_guard<std::mutex> lock(rep_->StripeFor(record.user_id, record.id));
  WriteBatch batch;
  ASSIGN_OR_RETURN(bool fresh, PrepareWrite(record, &batch));
  if (!fresh) return false;
  RETURN_IF_ERROR(rep_->db->Write(batch));
  return true;
}

Result<MemoryRecord> MemoryStore::Get(std::string_view user_id, std::string_view memory_id) const {
  RETURN_IF_ERROR(ValidateIds(user_id, memory_id));
  ASSIGN_OR_RETURN(std::optional<std::string> bytes,
                   rep_->db->Get(Table::kMemories, MemoryKey(user_id, memory_id)));
  if (!bytes.has_value()) {
    return Status::NotFound("memory " + std::string(memory_id) + " not found");
  }
  return DecodeMemoryRecord(*bytes);
}

Status MemoryStore::Delete(std::string_view user_id, std::string_view memory_id) {
  RETURN_IF_ERROR(ValidateIds(user_id, memory_id));
  std::lock_guard<std::mutex> lock(rep_->StripeFor(user_id, memory_id));
  ASSIGN_OR_RETURN(MemoryRecord record, Get(user_id, memory_id));
  // The postings are those Put wrote: the same tokenizer over the same content.
  uint64_t doc_len = 0;
  auto terms = TermFrequencies(record.content, &doc_len);
  WriteBatch batch;
  batch.Delete(Table::kMemories, MemoryKey(user_id, memory_id));
  for (const auto& term : terms) {
    batch.Delete(Table::kPostings, PostingKey(user_id, term.first, memory_id));
  }
  batch.AddCounters(Table::kUserStats, UserStatsKey(user_id), -1, -static_cast<int64_t>(doc_len));
  return rep_->db->Write(batch);
}

Status MemoryStore::Rep::ScoreTerm(std::string_view user_id, const std::string& term,
                                   double doc_count, double avgdl,
                                   std::unordered_map<std::string, double>* scores) const {
  // One pass: remember each posting's length-normalised tf part and where its score lives,
  // then scale by idf once df is known.
  std::vector<std::pair<double*, double>> parts;
  std::string prefix = PostingTermPrefix(user_id, term);
  Status decode_error;
  Status s =
      db->ScanPrefix(Table::kPostings, prefix, [&](std::string_view key, std::string_view value) {
        uint64_t tf = 0;
        uint64_t dl = 0;
        if (!DecodePostingValue(value, &tf, &dl)) {
          decode_error = Status::Corruption("malformed posting for term " + term);
          return false;
        }
        double tfd = static_cast<double>(tf);
        double norm = kK1 * (1 - kB + kB * static_cast<double>(dl) / avgdl);
        double* slot = &(*scores)[std::string(key.substr(prefix.size()))];
        parts.emplace_back(slot, tfd * (kK1 + 1) / (tfd + norm));
        return parts.size() < kMaxPostingsPerTerm;
      });
  RETURN_IF_ERROR(s);
  RETURN_IF_ERROR(decode_error);
  double df = static_cast<double>(parts.size());
  double idf = std::log(1 + (doc_count - df + 0.5) / (df + 0.5));
  for (const auto& [slot, part] : parts) *slot += idf * part;
  return Status::Ok();
}

Result<std::vector<ScoredMemory>> MemoryStore::Search(std::string_view user_id,
                                                      std::string_view query,
                                                      size_t max_results) const {
  std::vector<ScoredMemory> results;
  std::vector<std::string> terms = DistinctTerms(query);
  if (terms.empty() || max_results == 0) return results;
  RETURN_IF_ERROR(ValidateUserId(user_id));
  ASSIGN_OR_RETURN(auto stats, rep_->db->GetCounters(Table::kUserStats, UserStatsKey(user_id)));
  if (stats.first <= 0) return results;
  double doc_count = static_cast<double>(stats.first);
  double avgdl = std::max(1.0, static_cast<double>(stats.second) / doc_count);

  // unordered_map nodes are stable, so ScoreTerm may keep pointers to the scores.
  std::unordered_map<std::string, double> scores;
  for (const auto& term : terms) {
    RETURN_IF_ERROR(rep_->ScoreTerm(user_id, term, doc_count, avgdl, &scores));
  }

  std::vector<std::pair<double, const std::string*>> ranked;
  ranked.reserve(scores.size());
  for (const auto& [id, score] : scores) ranked.emplace_back(score, &id);
  // Best first; equal scores by id so results are deterministic.
  auto better = [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : *a.second < *b.second;
  };
  size_t k = std::min(max_results, ranked.size());
  std::partial_sort(ranked.begin(), ranked.begin() + k, ranked.end(), better);

  for (size_t i = 0; i < k; ++i) {
    auto record = Get(user_id, *ranked[i].second);
    if (record.status().IsNotFound()) continue;  // deleted since its postings were read
    if (!record.ok()) return record.status();
    results.push_back(ScoredMemory{std::move(record).value(), ranked[i].first});
  }
  return results;
}

Result<int64_t> MemoryStore::CountForUser(std::string_view user_id) const {
  RETURN_IF_ERROR(ValidateUserId(user_id));
  ASSIGN_OR_RETURN(auto stats, rep_->db->GetCounters(Table::kUserStats, UserStatsKey(user_id)));
  return stats.first;
}

}  // namespace papr::storage
