#pragma once

// The rows of kInbox (cluster mode, issue 15). A node asked to start an execution of a shard
// it does not own posts the start there, whole (type, input, owner and blobs), in one synced
// write; the shard's owner applies it as an ordinary start whose commit deletes the row, so
// it is applied exactly once however often it is read (storage/keys.h InboxStartKey).

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"
#include "engine/engine.h"

namespace papr::engine {

//! A start posted for the owner of its shard.
struct PostedStart {
  StartOptions options;  // new_id is not kept (the owner's start looks for the id)
  int64_t posted_ms = 0;
};

// Tag byte 1, varint posted_ms, then type, input, owner, a varint blob count and each blob's
// name and bytes, every string a varint length and its bytes.
std::string EncodePostedStart(const StartOptions& options, int64_t posted_ms);
// Corruption when `value` does not decode.
Result<PostedStart> DecodePostedStart(std::string_view value);
// How a posted start of `id` reads until applied: running, with its started event only.
ExecutionRecord PostedRecord(const std::string& id, const PostedStart& posted);

}  // namespace papr::engine
