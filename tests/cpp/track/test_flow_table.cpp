// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// The tracker's open-addressing flow table against std::map as the model.

#include <doctest/doctest.h>

#include <map>
#include <random>
#include <stdexcept>
#include <vector>

#include "track/flow_table.hpp"

#include "support/flow_builder.hpp"

namespace {
struct Value {
    capgap::FlowKey key;
    int n = 0;
};

capgap::FlowKey key_of(std::uint32_t i) {
    return capgap::FlowKey(capgap::test::endpoint(static_cast<std::uint8_t>(i % 7), 80),
                           capgap::test::endpoint(9, static_cast<std::uint16_t>(i)));
}
}  // namespace

TEST_CASE("flow table: inserts, finds and erases like a map, through growth and deletions") {
    capgap::detail::FlowTable<Value> table;
    std::map<capgap::FlowKey, int> model;
    std::mt19937 rng(7);
    for (int step = 0; step < 200000; ++step) {
        const capgap::FlowKey k = key_of(static_cast<std::uint32_t>(rng() % 5000));
        const auto op = rng() % 3;
        if (op < 2) {
            bool inserted = false;
            Value& v = table.find_or_insert(k, inserted);
            CHECK(inserted == (model.count(k) == 0));
            CHECK(v.key == k);
            v.n += 1;
            model[k] += 1;
        } else if (model.count(k)) {
            table.erase(k);
            model.erase(k);
            CHECK(table.find(k) == nullptr);
        }
        if (step % 10007 == 0) {
            REQUIRE(table.size() == model.size());
            for (const auto& [mk, n] : model) {
                const Value* v = table.find(mk);
                REQUIRE(v != nullptr);
                CHECK(v->n == n);
            }
        }
    }
    std::size_t seen = 0;
    table.for_each([&](Value& v) {
        ++seen;
        CHECK(model.at(v.key) == v.n);
    });
    CHECK(seen == model.size());
}

TEST_CASE("flow table: erase_if sees every value once and erases the chosen ones") {
    // Small tables, so that runs of full slots wrap round the end of the slot array; values
    // are erased while the walk goes on, shifting others back along their probe chains.
    for (std::uint32_t seed = 0; seed < 40; ++seed) {
        capgap::detail::FlowTable<Value> table;
        std::map<capgap::FlowKey, int> model;
        std::mt19937 rng(seed);
        const std::uint32_t span = 200 + seed * 50;
        for (int round = 0; round < 20; ++round) {
            for (std::uint32_t i = 0; i < span / 2; ++i) {
                const capgap::FlowKey k = key_of(static_cast<std::uint32_t>(rng() % span));
                bool inserted = false;
                Value& v = table.find_or_insert(k, inserted);
                v.n += 1;
                model[k] += 1;
            }
            std::map<capgap::FlowKey, int> calls;
            std::vector<capgap::FlowKey> erased;
            std::size_t hints = 0;
            table.erase_if(
                [&](Value& v) {
                    ++calls[v.key];
                    CHECK(model.at(v.key) == v.n);
                    if (rng() % 3 != 0) return false;
                    erased.push_back(v.key);
                    return true;
                },
                [&](const Value& v) {  // a value not yet seen by remove(), still present
                    ++hints;
                    CHECK(calls.count(v.key) == 0);
                    CHECK(model.count(v.key) == 1);
                });
            REQUIRE(calls.size() == model.size());
            CHECK(hints > 0);
            CHECK(hints <= model.size());
            for (const auto& [k, n] : calls)
                CHECK(n == 1);
            for (const capgap::FlowKey& k : erased) {
                model.erase(k);
                CHECK(table.find(k) == nullptr);
            }
            REQUIRE(table.size() == model.size());
            for (const auto& [mk, n] : model) {
                const Value* v = table.find(mk);
                REQUIRE(v != nullptr);
                CHECK(v->n == n);
            }
        }
    }
}

namespace {
// A value large enough that the pool takes several chunks, counting the ones alive.
int alive = 0;
struct Counted {
    Counted() { ++alive; }
    Counted(const Counted&) { ++alive; }
    Counted& operator=(const Counted&) = default;
    ~Counted() { --alive; }
};
struct BigValue {
    capgap::FlowKey key;
    int n = 0;
    Counted counted;
    char pad[60000] = {};
};
}  // namespace

TEST_CASE("flow table: drain sees every value present once, across chunks, then empties") {
    for (int throw_at : {-1, 0, 57, 299}) {
        CAPTURE(throw_at);
        {
            capgap::detail::FlowTable<BigValue> table;
            std::map<capgap::FlowKey, int> model;
            std::mt19937 rng(static_cast<unsigned>(throw_at + 2));
            for (std::uint32_t i = 0; i < 500; ++i) {  // about 15 chunks
                bool inserted = false;
                table.find_or_insert(key_of(i), inserted).n = static_cast<int>(i);
                model[key_of(i)] = static_cast<int>(i);
            }
            for (int k = 0; k < 150; ++k) {  // given back, some taken again below
                const capgap::FlowKey key = key_of(static_cast<std::uint32_t>(rng() % 500));
                if (model.erase(key) != 0) table.erase(key);
            }
            for (std::uint32_t i = 1000; i < 1050; ++i) {
                bool inserted = false;
                table.find_or_insert(key_of(i), inserted).n = static_cast<int>(i);
                model[key_of(i)] = static_cast<int>(i);
            }
            std::map<capgap::FlowKey, int> seen;
            int calls = 0;
            auto see = [&](BigValue& v) {
                if (calls++ == throw_at) throw std::runtime_error("stop");
                CHECK(model.at(v.key) == v.n);
                ++seen[v.key];
            };
            if (throw_at < 0) {
                table.drain(see);
                CHECK(seen.size() == model.size());
                for (const auto& [k, n] : seen)
                    CHECK(n == 1);
                CHECK(table.size() == 0);
                CHECK(alive == 0);  // every value destroyed by the walk
                bool inserted = false;
                table.find_or_insert(key_of(3), inserted);  // usable again
                CHECK(inserted);
                CHECK(table.size() == 1);
            } else {
                CHECK_THROWS_AS(table.drain(see), std::runtime_error);
            }
        }
        CHECK(alive == 0);  // each value destroyed once, whether the walk ended or not
    }
}
