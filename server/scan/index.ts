export { assertNoSymlinkEscape, assertRootAllowed, isInside, normalizeRelativePath, resolveInsideRoot, symlinkPointsOutside } from "./paths";
export { BUILTIN_EXCLUDES, createIgnoreRules, type DirContext, type IgnoreRules, type IgnoreRulesOptions } from "./ignore-rules";
export { comparePaths, scanComponent, type ScanOptions } from "./walk";
export { RACY_WINDOW_MS, STAT_CACHE_VERSION, StatCache, openStatCache, removeStatCache, statCacheFile, type OpenStatCacheOptions, type StatCacheRecord, type StatCacheSaveResult } from "./stat-cache";
export { MAX_SOURCE_BYTES, discoverRelated, resolveJsSpecifier, resolvePythonImport } from "./related";
