#include "storage/end_user_store.h"

#include "common/byte_codec.h"

namespace papr::storage {
namespace {

// Format version 1: u8 version, lp id, lp owner, lp external_id, lp email, lp metadata_json,
// lp type, sv created_at_ms, sv updated_at_ms. Nothing may follow.
constexpr uint8_t kVersion1 = 1;

std::string OwnerPrefix(std::string_view owner, char kind) {
  std::string key(owner);
  key.push_back('\0');
  key.push_back(kind);
  return key;
}

std::string RecordKey(std::string_view owner, std::string_view id) {
  return OwnerPrefix(owner, 'u').append(id);
}

std::string ExternalKey(std::string_view owner, std::string_view external_id) {
  return OwnerPrefix(owner, 'x').append(external_id);
}

Status ValidateOwner(std::string_view owner) {
  if (owner.empty() || owner.find('\0') != std::string_view::npos) {
    return Status::InvalidArgument("owner must be non-empty and contain no NUL byte");
  }
  return Status::Ok();
}

Status NotFound(std::string_view id) {
  return Status::NotFound("user " + std::string(id) + " not found");
}

}  // namespace

std::string EncodeEndUserRecord(const EndUserRecord& r) {
  std::string out(1, static_cast<char>(kVersion1));
  for (const std::string* s : {&r.id, &r.owner, &r.external_id, &r.email, &r.metadata_json, &r.type}) {
    PutLengthPrefixed(&out, *s);
  }
  PutSignedVarint64(&out, r.created_at_ms);
  PutSignedVarint64(&out, r.updated_at_ms);
  return out;
}

Result<EndUserRecord> DecodeEndUserRecord(std::string_view in) {
  EndUserRecord r;
  bool ok = !in.empty() && static_cast<uint8_t>(in.front()) == kVersion1;
  if (ok) in.remove_prefix(1);
  for (std::string* s : {&r.id, &r.owner, &r.external_id, &r.email, &r.metadata_json, &r.type}) {
    ok = ok && GetLengthPrefixed(&in, s);
  }
  ok = ok && GetSignedVarint64(&in, &r.created_at_ms) && GetSignedVarint64(&in, &r.updated_at_ms);
  if (!ok || !in.empty()) return Status::Corruption("malformed end user record");
  return r;
}

Result<std::pair<EndUserRecord, bool>> EndUserStore::Create(const EndUserRecord& record) {
  RETURN_IF_ERROR(ValidateOwner(record.owner));
  WriteBatch batch;
  batch.Insert(Table::kEndUsers, ExternalKey(record.owner, record.external_id), record.id);
  batch.Insert(Table::kEndUsers, RecordKey(record.owner, record.id), EncodeEndUserRecord(record));
  Status written = db_->Write(batch);
  if (written.code() == StatusCode::kAlreadyExists) {
    ASSIGN_OR_RETURN(EndUserRecord existing, GetByExternalId(record.owner, record.external_id));
    return std::make_pair(std::move(existing), false);
  }
  RETURN_IF_ERROR(written);
  return std::make_pair(record, true);
}

Result<EndUserRecord> EndUserStore::Get(std::string_view owner, std::string_view id) const {
  RETURN_IF_ERROR(ValidateOwner(owner));
  ASSIGN_OR_RETURN(std::optional<std::string> bytes, db_->Get(Table::kEndUsers, RecordKey(owner, id)));
  if (!bytes) return NotFound(id);
  return DecodeEndUserRecord(*bytes);
}

Result<EndUserRecord> EndUserStore::GetByExternalId(std::string_view owner,
                                                    std::string_view external_id) const {
  RETURN_IF_ERROR(ValidateOwner(owner));
  ASSIGN_OR_RETURN(std::optional<std::string> id,
                   db_->Get(Table::kEndUsers, ExternalKey(owner, external_id)));
  if (!id) return NotFound(external_id);
  return Get(owner, *id);
}

Status EndUserStore::Replace(const EndUserRecord& updated) {
  ASSIGN_OR_RETURN(EndUserRecord current, Get(updated.owner, updated.id));
  if (current.external_id != updated.external_id) {
    return Status::InvalidArgument("an end user's external_id does not change");
  }
  WriteBatch batch;
  batch.Put(Table::kEndUsers, RecordKey(updated.owner, updated.id), EncodeEndUserRecord(updated));
  return db_->Write(batch);
}

Status EndUserStore::Delete(std::string_view owner, std::string_view id) {
  ASSIGN_OR_RETURN(EndUserRecord current, Get(owner, id));
  WriteBatch batch;
  batch.Delete(Table::kEndUsers, RecordKey(owner, id));
  batch.Delete(Table::kEndUsers, ExternalKey(owner, current.external_id));
  return db_->Write(batch);
}

Result<EndUserPage> EndUserStore::List(std::string_view owner,
                                       std::optional<std::string_view> email,
                                       std::optional<std::string_view> external_id, int64_t page,
                                       int64_t page_size) const {
  RETURN_IF_ERROR(ValidateOwner(owner));
  EndUserPage out;
  int64_t first = (page - 1) * page_size;
  std::string prefix = OwnerPrefix(owner, 'u');
  auto cursor = db_->NewCursor(Table::kEndUsers);
  for (cursor->Seek(prefix); cursor->Valid(); cursor->Next()) {
    if (cursor->key().substr(0, prefix.size()) != prefix) break;
    ASSIGN_OR_RETURN(EndUserRecord r, DecodeEndUserRecord(cursor->value()));
    if ((email && r.email != *email) || (external_id && r.external_id != *external_id)) continue;
    if (out.total >= first && out.total < first + page_size) out.users.push_back(std::move(r));
    ++out.total;
  }
  RETURN_IF_ERROR(cursor->status());
  return out;
}

}  // namespace papr::storage
