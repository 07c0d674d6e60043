#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "storage/db.h"

namespace papr::storage {

//! One end user of an API key's owner (Papr's /v1/user). `external_id` is the application's
//! own id for it, the `external_user_id` its memories carry. JSON fields are minified text.
struct EndUserRecord {
  std::string id;           // generated at creation
  std::string owner;        // the API key's user
  std::string external_id;  // unique per owner
  std::string email;
  std::string metadata_json = "{}";
  std::string type = "user";  // developerUser | user | agent
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;

  bool operator==(const EndUserRecord&) const = default;
};

std::string EncodeEndUserRecord(const EndUserRecord& record);
Result<EndUserRecord> DecodeEndUserRecord(std::string_view bytes);

//! A page of an owner's end users, oldest id first, and how many match in all.
struct EndUserPage {
  std::vector<EndUserRecord> users;
  int64_t total = 0;
};

//! End users in kEndUsers: the record under its id and the external id's claim, written
//! together. An external id is claimed with an Insert, so of concurrent creators (threads or
//! nodes on one store) exactly one wins. Thread-safe.
class EndUserStore {
 public:
  explicit EndUserStore(Db* db) : db_(db) {}

  // Creates `record` (its id, owner and external_id set by the caller). When the external id
  // is taken: the existing user and false; else the record and true.
  Result<std::pair<EndUserRecord, bool>> Create(const EndUserRecord& record);
  // NotFound when absent.
  Result<EndUserRecord> Get(std::string_view owner, std::string_view id) const;
  Result<EndUserRecord> GetByExternalId(std::string_view owner, std::string_view external_id) const;
  // Stores `updated` over the user of its id (external_id unchanged). NotFound when absent.
  Status Replace(const EndUserRecord& updated);
  // Deletes the record and the external id's claim. NotFound when absent.
  Status Delete(std::string_view owner, std::string_view id);
  // Page `page` (from 1) of `page_size`, of the users matching the filters given.
  Result<EndUserPage> List(std::string_view owner, std::optional<std::string_view> email,
                           std::optional<std::string_view> external_id, int64_t page,
                           int64_t page_size) const;

 private:
  Db* db_;
};

}  // namespace papr::storage
