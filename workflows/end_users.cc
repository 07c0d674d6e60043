#include "workflows/end_users.h"

#include "common/crypto.h"

namespace papr::workflows {

Result<storage::EndUserRecord> EndUsers::Create(const std::string& owner,
                                                const EndUserInput& input, bool* created) {
  storage::EndUserRecord record;
  record.id = RandomUuid();
  record.owner = owner;
  record.external_id = input.external_id;
  record.email = input.email.value_or("");
  record.metadata_json = input.metadata_json.value_or("{}");
  record.type = input.type.value_or("user");
  record.created_at_ms = record.updated_at_ms = clock_->NowMillis();
  ASSIGN_OR_RETURN(auto stored, store_->Create(record));
  if (created != nullptr) *created = stored.second;
  return std::move(stored.first);
}

Result<storage::EndUserRecord> EndUsers::Get(const std::string& owner,
                                             const EndUserRef& ref) const {
  if (ref.is_external) return store_->GetByExternalId(owner, ref.id);
  auto by_id = store_->Get(owner, ref.id);
  if (!by_id.status().IsNotFound()) return by_id;
  return store_->GetByExternalId(owner, ref.id);
}

Result<storage::EndUserRecord> EndUsers::Update(const std::string& owner, const EndUserRef& ref,
                                                const EndUserInput& input) {
  ASSIGN_OR_RETURN(storage::EndUserRecord record, Get(owner, ref));
  if (!input.external_id.empty() && input.external_id != record.external_id) {
    return Status::InvalidArgument(
        "external_id cannot change (memories are stored under it): create a new user");
  }
  if (input.email) record.email = *input.email;
  if (input.metadata_json) record.metadata_json = *input.metadata_json;
  if (input.type) record.type = *input.type;
  record.updated_at_ms = clock_->NowMillis();
  RETURN_IF_ERROR(store_->Replace(record));
  return record;
}

Result<std::pair<storage::EndUserRecord, int64_t>> EndUsers::Delete(const std::string& owner,
                                                                    const EndUserRef& ref) {
  ASSIGN_OR_RETURN(storage::EndUserRecord record, Get(owner, ref));
  ASSIGN_OR_RETURN(int64_t deleted, memories_->DeleteAll(owner, record.external_id));
  RETURN_IF_ERROR(store_->Delete(owner, record.id));
  return std::make_pair(std::move(record), deleted);
}

Result<storage::EndUserPage> EndUsers::List(const std::string& owner,
                                            std::optional<std::string_view> email,
                                            std::optional<std::string_view> external_id,
                                            int64_t page, int64_t page_size) const {
  return store_->List(owner, email, external_id, page, page_size);
}

}  // namespace papr::workflows
