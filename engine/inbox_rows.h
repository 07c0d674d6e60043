#pragma once

// The rows of kInbox (cluster mode, issue 15). A node asked to start an execution of a shard
// it does not own posts the start there, whole (type, input, owner and blobs), in one synced
// write; the shard's owner applies it as an ordinary start whose commit deletes the row, so
// it is applied exactly once however often it is read (storage/keys.h InboxStartKey).
// Cancels, terminates and signals of an execution another node runs are posted the same way
// (InboxRequestKey) and applied by a transition of the execution whose commit deletes the row.

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

//! A cancel, terminate or signal posted for the owner of the execution's shard.
struct PostedRequest {
  enum class Kind : uint8_t { kCancel = 1, kTerminate = 2, kSignal = 3 };
  Kind kind = Kind::kCancel;
  std::string name;     // the signal's
  std::string payload;  // the reason, or the signal's input
  int64_t posted_ms = 0;
};

// Tag byte 2, the kind byte, varint posted_ms, name and payload (varint length and bytes).
std::string EncodePostedRequest(const PostedRequest& request);
Result<PostedRequest> DecodePostedRequest(std::string_view value);

}  // namespace papr::engine
