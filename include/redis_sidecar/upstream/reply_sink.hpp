#pragma once
/// How the upstream component hands replies back without knowing who asked (dependencies point
/// down: the server implements these, upstream calls them).

#include <string_view>

namespace redis_sidecar::upstream {

/// Receives the replies to requests sent through the shared pool, in request order.
class reply_sink {
public:
    virtual ~reply_sink() = default;
    /// Bytes of the reply to this sink's oldest unanswered request, whose bytes as sent are
    /// `request` (the connection keeps them until the reply is complete, so the sink need not copy
    /// them); `complete` when the bytes end the reply. A large reply may come in several calls,
    /// so it can be streamed on without buffering it.
    virtual void on_reply_bytes(std::string_view bytes, bool complete, std::string_view request) = 0;
    /// The oldest unanswered request (its bytes: `request`) will get no reply: its connection
    /// failed or timed out. `partial` is true when some bytes of its reply were already delivered.
    virtual void on_reply_failed(std::string_view reason, bool partial, std::string_view request) = 0;
    /// Every reply for this sink in one read from Redis has been delivered: the moment to write
    /// them out together. Once per sink and read, after its last on_reply_bytes of that read.
    virtual void on_replies_delivered() {}
};

/// Receives everything a pinned (dedicated) upstream connection sends, unframed.
class pinned_sink {
public:
    virtual ~pinned_sink() = default;
    /// Bytes from Redis, to pass to the client as they are.
    virtual void on_pinned_bytes(std::string_view bytes) = 0;
    /// The connection closed (Redis hung up, failed, or `reason` says why).
    virtual void on_pinned_closed(std::string_view reason) = 0;
};

}  // namespace redis_sidecar::upstream
