// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// The diagnosis's statistics: the two-proportion test, the knee fit and the bucket width.

#include <algorithm>
#include <cmath>

#include "diagnose/rules.hpp"

namespace capgap::detail {

double two_proportion_z(std::uint64_t k1, std::uint64_t n1, std::uint64_t k2, std::uint64_t n2) {
    if (n1 == 0 || n2 == 0) return 0.0;
    const double p1 = static_cast<double>(k1) / static_cast<double>(n1);
    const double p2 = static_cast<double>(k2) / static_cast<double>(n2);
    const double p = static_cast<double>(k1 + k2) / static_cast<double>(n1 + n2);
    const double var =
        p * (1.0 - p) * (1.0 / static_cast<double>(n1) + 1.0 / static_cast<double>(n2));
    if (var <= 0.0) return 0.0;
    return (p1 - p2) / std::sqrt(var);
}

bool significant(std::uint64_t k, std::uint64_t n, std::uint64_t rest_k, std::uint64_t rest_n,
                 double& z) {
    z = two_proportion_z(k, n, rest_k, rest_n);
    return n >= min_group_sessions && k >= min_group_bad && rest_n > 0 && z >= significance_z;
}

namespace {

double rate_of(const LoadSample& s) {
    const double all = s.bytes + s.missing;
    return all > 0.0 ? s.missing / all : 0.0;
}

}  // namespace

void fit_knee(std::vector<LoadSample> samples, Load& out) {
    samples.erase(std::remove_if(samples.begin(), samples.end(),
                                 [](const LoadSample& s) { return s.bytes + s.missing <= 0.0; }),
                  samples.end());
    std::stable_sort(samples.begin(), samples.end(), [](const LoadSample& a, const LoadSample& b) {
        return a.bits_per_s < b.bits_per_s;
    });
    out.points.clear();
    for (const LoadSample& s : samples)
        out.points.push_back(LoadPoint{s.bits_per_s, rate_of(s)});
    out.knee_bits_per_s.reset();
    out.knee_confidence = "none";
    const std::size_t n = samples.size();
    double lossy = 0.0;
    for (const LoadSample& s : samples)
        lossy += s.missing;
    if (n < knee_min_buckets || lossy <= 0.0) return;

    // Prefix sums of the loss rate and its square: the SSE of a split in O(1).
    std::vector<double> sum(n + 1, 0.0), sq(n + 1, 0.0);
    for (std::size_t i = 0; i < n; ++i) {
        const double r = out.points[i].loss_rate;
        sum[i + 1] = sum[i] + r;
        sq[i + 1] = sq[i] + r * r;
    }
    auto sse = [&](std::size_t a, std::size_t b) {  // over [a, b)
        const double m = static_cast<double>(b - a);
        const double s = sum[b] - sum[a];
        return sq[b] - sq[a] - s * s / m;
    };
    std::size_t best = 0;
    double best_sse = 0.0;
    for (std::size_t k = 1; k < n; ++k) {
        if (samples[k].bits_per_s <= samples[k - 1].bits_per_s) continue;
        const double below = (sum[k] - sum[0]) / static_cast<double>(k);
        const double above = (sum[n] - sum[k]) / static_cast<double>(n - k);
        if (above <= below) continue;
        const double e = sse(0, k) + sse(k, n);
        if (best == 0 || e < best_sse) {
            best = k;
            best_sse = e;
        }
    }
    if (best == 0) return;

    double miss_b = 0, all_b = 0, miss_a = 0, all_a = 0;
    std::uint64_t seg_b = 0, seg_a = 0, ev_b = 0, ev_a = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const LoadSample& x = samples[i];
        if (i < best) {
            miss_b += x.missing;
            all_b += x.bytes + x.missing;
            seg_b += x.segments + x.loss_events;
            ev_b += x.loss_events;
        } else {
            miss_a += x.missing;
            all_a += x.bytes + x.missing;
            seg_a += x.segments + x.loss_events;
            ev_a += x.loss_events;
        }
    }
    out.loss_below = all_b > 0 ? miss_b / all_b : 0.0;
    out.loss_above = all_a > 0 ? miss_a / all_a : 0.0;
    out.buckets_below = best;
    out.buckets_above = n - best;
    out.knee_bits_per_s = (samples[best - 1].bits_per_s + samples[best].bits_per_s) / 2.0;
    const double z = two_proportion_z(ev_a, seg_a, ev_b, seg_b);
    out.knee_z = z;
    const bool enough_below =
        static_cast<double>(seg_b) >= knee_min_below_share * static_cast<double>(seg_a + seg_b);
    if (enough_below && z >= knee_z_high) {
        out.knee_confidence = "high";
    } else if (enough_below && z >= knee_z_medium) {
        out.knee_confidence = "medium";
    } else {
        out.knee_confidence = "low";
    }
}

std::int64_t choose_bucket(std::int64_t requested, std::int64_t span_ns, std::int64_t base_ns) {
    std::int64_t b = requested;
    if (b <= 0) {
        static constexpr std::int64_t widths[] = {
            10'000'000,     100'000'000,     1'000'000'000,     10'000'000'000,
            60'000'000'000, 600'000'000'000, 3'600'000'000'000, 86'400'000'000'000};
        b = widths[std::size(widths) - 1];
        for (const std::int64_t w : widths) {
            if (w < base_ns) continue;
            if (span_ns / w < static_cast<std::int64_t>(auto_bucket_rows)) {
                b = w;
                break;
            }
        }
    }
    if (base_ns > 0 && b % base_ns != 0) b = (b / base_ns + 1) * base_ns;
    return b;
}

}  // namespace capgap::detail
