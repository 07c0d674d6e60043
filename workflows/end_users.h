#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "storage/end_user_store.h"
#include "workflows/memory_editor.h"

namespace papr::workflows {

//! What creating or updating an end user gives; an absent field keeps (or defaults) its value.
struct EndUserInput {
  std::string external_id;
  std::optional<std::string> email;
  std::optional<std::string> metadata_json;
  std::optional<std::string> type;
};

//! How a route names an end user: its id, or (is_external) its external id. Unless
//! is_external, an id that is no user's is looked up as an external id too.
struct EndUserRef {
  std::string id;
  bool is_external = false;
};

//! Papr's /v1/user: an API key's end users. Deleting one deletes its memories (those whose
//! external_user_id is its external_id) first, so a delete cut short is finished by the next.
//! Thread-safe.
class EndUsers {
 public:
  EndUsers(storage::EndUserStore* store, MemoryEditor* memories, const Clock* clock)
      : store_(store), memories_(memories), clock_(clock) {}

  // Creates the user, or answers the one that has this external id (created = false).
  Result<storage::EndUserRecord> Create(const std::string& owner, const EndUserInput& input,
                                        bool* created = nullptr);
  Result<storage::EndUserRecord> Get(const std::string& owner, const EndUserRef& ref) const;
  // InvalidArgument when the input names another external_id.
  Result<storage::EndUserRecord> Update(const std::string& owner, const EndUserRef& ref,
                                        const EndUserInput& input);
  // The user and how many memories were deleted with it.
  Result<std::pair<storage::EndUserRecord, int64_t>> Delete(const std::string& owner,
                                                            const EndUserRef& ref);
  Result<storage::EndUserPage> List(const std::string& owner,
                                    std::optional<std::string_view> email,
                                    std::optional<std::string_view> external_id, int64_t page,
                                    int64_t page_size) const;

 private:
  storage::EndUserStore* store_;
  MemoryEditor* memories_;
  const Clock* clock_;
};

}  // namespace papr::workflows
