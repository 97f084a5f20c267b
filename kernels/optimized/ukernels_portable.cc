#include "kernels/optimized/ukernels.h"

namespace triage::kernels::optimized {
namespace portable {
#include "kernels/optimized/ukernels_impl.inc"
}  // namespace portable

const Ukernels& PortableUkernels() {
  static const Ukernels table = portable::MakeTable("portable");
  return table;
}

#if !defined(TRIAGE_HAVE_SSE41_UKERNELS)
const Ukernels* Sse41Ukernels() { return nullptr; }
#endif
#if !defined(TRIAGE_HAVE_AVX2_UKERNELS)
const Ukernels* Avx2Ukernels() { return nullptr; }
#endif
#if !defined(TRIAGE_HAVE_NEON_UKERNELS)
const Ukernels* NeonUkernels() { return nullptr; }
#endif

}  // namespace triage::kernels::optimized
