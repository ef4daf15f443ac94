// The version of the interface between coordnet's compiled extension and its Python side:
// the set of ops, their schemas and their semantics. Raise it (and EXPECTED_ABI_VERSION in
// coordnet/ops/_extension.py) whenever one of them changes, so that a stale build is detected
// on load instead of failing op by op.
#pragma once

#define COORDNET_ABI_VERSION 3
