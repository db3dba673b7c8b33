#include "base/process.h"

#include "absl/synchronization/mutex.h"

namespace tern::base {

void ConfigureDaemonProcess() {
#ifdef NDEBUG
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
#endif
}

}  // namespace tern::base
