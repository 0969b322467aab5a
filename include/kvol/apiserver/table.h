// Server-side printing: meta.k8s.io/v1 Tables, as kube-apiserver builds them for `kubectl get`.
//
// BuildTable turns objects of one kind (their JSON, as stored) into a Table with the columns and
// cells of Kubernetes' pkg/printers/internalversion/printers.go (built-in kinds) or of the CRD's
// additionalPrinterColumns (VolumeSnapshot*, as external-snapshotter declares them). Kinds without
// a printer get NAME and AGE. Like the API server, every row carries the "wide" cells too;
// columns with priority 1 are the ones kubectl shows only with `-o wide`.
//
// Cells are the printers' values: mostly strings already formatted ("5m", "RWO,ROX", "<unset>",
// "standard (default)"), some integers and booleans (kubectl prints them with %v). Ages are
// relative to `nowUnix` (seconds since the epoch), so tests are deterministic.
//
// row.object follows ?includeObject=: None (no object), Metadata (the default: a
// PartialObjectMetadata with kind, apiVersion meta.k8s.io/v1 and the object's metadata), Object
// (the object itself). The caller sets the Table's metadata.resourceVersion / continue.
//
// Thread safety: pure functions over their arguments; the printer registry is immutable after its
// first use.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kvol/api/reflect.h"
#include "kvol/api/scheme.h"

namespace kvol::apiserver {

using json = api::json;

enum class IncludeObject { kNone, kMetadata, kObject };

// Parses the includeObject query value ("", "Metadata", "Object", "None"); "" means Metadata.
std::optional<IncludeObject> ParseIncludeObject(std::string_view v);

// The Table for `objects` (all of kind info.kind). includeObject=true means Metadata.
json BuildTable(const api::ResourceInfo& info, const std::vector<json>& objects, bool includeObject,
                int64_t nowUnix);
json BuildTable(const api::ResourceInfo& info, const std::vector<json>& objects,
                IncludeObject include, int64_t nowUnix);

// A Table with one row (column definitions included): the `object` of a watch event when the
// client asked for Tables.
json BuildTableRow(const api::ResourceInfo& info, const json& object, bool includeObject,
                   int64_t nowUnix);
json BuildTableRow(const api::ResourceInfo& info, const json& object, IncludeObject include,
                   int64_t nowUnix);

// BuildTable's pieces, for the watch cache (watch_cache.h), which assembles list Tables from
// per-object rows it keeps: one row without its object ({"cells": [...]} plus "conditions" when
// the printer gives any), and the columnDefinitions array.
json TableRowCells(const api::ResourceInfo& info, const json& object, int64_t nowUnix);
json TableColumnDefinitions(const api::ResourceInfo& info);

// --- Formatting helpers, shared with the CLI (describe) -------------------------------------

// k8s.io/apimachinery/pkg/util/duration.HumanDuration: "45s", "5m30s", "3h2m", "2d", "3y12d".
std::string HumanDuration(int64_t seconds);
// Parses RFC 3339 ("2024-05-01T10:00:00Z", fractional seconds and offsets allowed) to Unix
// seconds; nullopt when the text is not a timestamp.
std::optional<int64_t> ParseTimestamp(std::string_view rfc3339);
// translateTimestampSince: "<unknown>" for a missing/empty timestamp, else HumanDuration(now-ts).
std::string TimestampSince(const json& ts, int64_t nowUnix);
// "RWO,ROX,RWX,RWOP" (duplicates dropped, this order), from a JSON list of access modes.
std::string AccessModesString(const json& modes);
// metav1.FormatLabelSelector: "app=web,tier in (a,b)"; "<none>" when empty.
std::string FormatLabelSelector(const json& selector);

}  // namespace kvol::apiserver
