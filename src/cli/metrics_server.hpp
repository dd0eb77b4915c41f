// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
// The HTTP endpoint of `capgap live --metrics-listen ADDR:PORT`: GET /metrics answers the
// registry's Prometheus text, on one thread of its own (cpp-httplib). Kept apart from the
// command so that only this file includes <httplib.h>.

#include <functional>
#include <memory>
#include <string>

namespace capgap::cli {

// ADDR:PORT split: "127.0.0.1:9100", "[::1]:9100", ":9100" (every address), "host:0" (a free
// port, chosen by the system).
struct ListenAddress {
    std::string host;
    int port = 0;
};
// @throws std::invalid_argument with the reason when `text` is not ADDR:PORT
ListenAddress parse_listen_address(const std::string& text);

class MetricsServer {
  public:
    // Binds (so that a busy port or a bad address fails here, before the capture starts) and
    // serves on a thread of its own until destroyed.
    // @throws capgap::io_error naming the address when it cannot bind
    // `render` runs on the server's thread, once per scrape.
    MetricsServer(const ListenAddress& where, std::function<std::string()> render);
    ~MetricsServer();
    MetricsServer(const MetricsServer&) = delete;
    MetricsServer& operator=(const MetricsServer&) = delete;

    // The port bound (the one chosen when 0 was asked).
    int port() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace capgap::cli
