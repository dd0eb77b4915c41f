// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// GET /metrics over cpp-httplib (see metrics_server.hpp).

#include "cli/metrics_server.hpp"

#include <httplib.h>
#include <capgap/errors.hpp>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>

namespace capgap::cli {

ListenAddress parse_listen_address(const std::string& text) {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos)
        throw std::invalid_argument("expected ADDR:PORT (e.g. 127.0.0.1:9100 or :9100)");
    ListenAddress a;
    a.host = text.substr(0, colon);
    if (a.host.size() >= 2 && a.host.front() == '[' && a.host.back() == ']')
        a.host = a.host.substr(1, a.host.size() - 2);
    else if (a.host.find(':') != std::string::npos)
        throw std::invalid_argument("an IPv6 address goes in brackets: [::1]:9100");
    if (a.host.empty()) a.host = "0.0.0.0";
    const std::string port = text.substr(colon + 1);
    if (port.empty() || port.size() > 5 ||
        port.find_first_not_of("0123456789") != std::string::npos)
        throw std::invalid_argument("the port must be a number from 0 to 65535");
    a.port = std::stoi(port);
    if (a.port > 65535) throw std::invalid_argument("the port must be a number from 0 to 65535");
    return a;
}

struct MetricsServer::Impl {
    httplib::Server server;
    std::thread thread;
    std::atomic<bool> finished{false};
    int port = 0;
};

MetricsServer::MetricsServer(const ListenAddress& where, std::function<std::string()> render)
    : impl_(std::make_unique<Impl>()) {
    auto& srv = impl_->server;
    // One worker: a scrape is a few kilobytes rendered from a snapshot, and the capture must
    // keep the machine's other cores.
    srv.new_task_queue = [] { return new httplib::ThreadPool(1); };
    srv.Get("/metrics",
            [render = std::move(render)](const httplib::Request&, httplib::Response& res) {
                res.set_content(render(), "text/plain; version=0.0.4; charset=utf-8");
            });
    const std::string name = "--metrics-listen " + where.host + ":" + std::to_string(where.port);
    if (where.port == 0) {
        impl_->port = srv.bind_to_any_port(where.host);
        if (impl_->port < 0) throw io_error(name + ": cannot bind", name, 0);
    } else {
        if (!srv.bind_to_port(where.host, where.port))
            throw io_error(name + ": cannot bind (address in use, or not an address of this host)",
                           name, 0);
        impl_->port = where.port;
    }
    impl_->thread = std::thread([this] {
        impl_->server.listen_after_bind();
        impl_->finished = true;
    });
}

MetricsServer::~MetricsServer() {
    // stop() does nothing before the thread has started listening: ask until it has ended.
    while (!impl_->finished) {
        impl_->server.stop();
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    impl_->thread.join();
}

int MetricsServer::port() const {
    return impl_->port;
}

}  // namespace capgap::cli
