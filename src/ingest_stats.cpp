// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
