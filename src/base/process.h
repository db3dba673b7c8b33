#pragma once

namespace tern::base {

// Process-wide settings every Tern daemon applies first thing in main, before any thread starts.
//
// Debian's Abseil is built with mutex deadlock detection on: every absl::Mutex acquisition then
// records lock-order edges in a global graph (GraphCycles), which showed up in profiles of a
// loaded cluster. Tern's lock order is checked by the sanitizer/debug builds and tests; Release
// daemons turn the detection off. Builds without NDEBUG keep it, so tests still catch cycles.
void ConfigureDaemonProcess();

}  // namespace tern::base
