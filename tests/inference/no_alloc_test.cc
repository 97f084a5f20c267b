// Invoke must not allocate: global operator new is replaced by the test
// support library and counted while an AllocGuard is alive.
#include <cstring>

#include <gtest/gtest.h>

#include "inference/interpreter.h"
#include "inference/model_writer.h"
#include "inference/op_resolver.h"
#include "tests/support/alloc_guard.h"
#include "tests/support/shared_paths.h"
#include "tests/support/tiny_models.h"

namespace triage::inference {
namespace {

// The reference kernels, the optimized ones, and the optimized ones split
// over two threads (every operator handed to the worker).
InterpreterOptions Engine(int i) {
  InterpreterOptions o;
  o.kernel_set = i == 0 ? kernels::KernelSet::kReference : kernels::KernelSet::kOptimized;
  o.threads = i == 2 ? 2 : 1;
  o.min_parallel_work = 0;
  return o;
}
constexpr int kEngines = 3;

size_t AllocationsDuringInvoke(Span<const uint8_t> bytes) {
  auto model = Model::Create(bytes);
  EXPECT_TRUE(model.ok()) << model.status().message();
  OpResolver r;
  EXPECT_TRUE(AddAllBuiltinOps(r).ok());
  size_t count = 0;
  for (int e = 0; e < kEngines; ++e) {
    Interpreter interp(*model, r, Engine(e));
    EXPECT_TRUE(interp.PrepareAndAllocate().ok());
    std::memset(interp.input(0).data, 1, interp.input(0).bytes);
    EXPECT_TRUE(interp.Invoke().ok());  // wakes the workers once
    testing::AllocGuard guard;
    for (int i = 0; i < 3; ++i) EXPECT_TRUE(interp.Invoke().ok());
    count += guard.count();
  }
  return count;
}

TEST(NoAllocation, GuardDetectsAllocations) {
  testing::AllocGuard guard;
  void* volatile p = ::operator new(16);  // explicit call: cannot be elided
  ::operator delete(p);
  EXPECT_EQ(guard.count(), 1u);
}

TEST(NoAllocation, InvokeOnSyntheticModelsAllocatesNothing) {
  for (const auto& m : testing::AllTinyModels()) {
    AlignedBuffer buf = ToAligned(m.bytes);
    EXPECT_EQ(AllocationsDuringInvoke(buf.span()), 0u) << m.name;
  }
}

TEST(NoAllocation, InvokeOnSharedModelsAllocatesNothing) {
  TRIAGE_REQUIRE_SHARED();
  for (const char* name : {"person_detect.tflite", "mobilenet_v1_0.25_128_quant.tflite",
                           "tf2_mobilenet_v2_1.0_224_ptq.tflite", "hello_world_float.tflite"}) {
    auto file = ReadFileAligned(testing::SharedPath(std::string("models/") + name));
    ASSERT_TRUE(file.ok());
    EXPECT_EQ(AllocationsDuringInvoke(file->span()), 0u) << name;
  }
}

TEST(NoAllocation, PrepareReportsOutOfMemoryAsAStatus) {
  // ncnn-style: fail the Nth allocation of Prepare + AllocateTensors. Each
  // attempt must either report kResourceExhausted or leave a working
  // interpreter whose output matches an unhindered run; never throw.
  AlignedBuffer buf = ToAligned(testing::Int8NetWriter().Build());
  auto model = Model::Create(buf.span());
  ASSERT_TRUE(model.ok());
  OpResolver r;
  ASSERT_TRUE(AddAllBuiltinOps(r).ok());
  Interpreter reference(*model, r);
  ASSERT_TRUE(reference.PrepareAndAllocate().ok());
  std::memset(reference.input(0).data, 1, reference.input(0).bytes);
  ASSERT_TRUE(reference.Invoke().ok());
  const TensorView want = reference.output(0);

  int failures = 0, successes = 0;
  for (size_t n = 1; n <= 60; ++n) {
    Interpreter interp(*model, r);
    testing::FailNthAllocation(n);
    Status s = Status::Ok();
    EXPECT_NO_THROW(s = interp.PrepareAndAllocate()) << "allocation " << n;
    testing::FailNthAllocation(0);
    if (!s.ok()) {
      EXPECT_EQ(s.code(), StatusCode::kResourceExhausted) << s.message();
      EXPECT_FALSE(interp.allocated());
      ++failures;
      continue;
    }
    ++successes;
    std::memset(interp.input(0).data, 1, interp.input(0).bytes);
    ASSERT_TRUE(interp.Invoke().ok());
    EXPECT_EQ(0, std::memcmp(interp.output(0).data, want.data, want.bytes)) << "allocation " << n;
  }
  EXPECT_GT(failures, 0) << "no injected failure reached Prepare";
  EXPECT_GT(successes, 0) << "Prepare needs more than 60 allocations";
}

TEST(NoAllocation, ModelCreateReportsOutOfMemoryAsAStatus) {
  AlignedBuffer buf = ToAligned(testing::Uint8ConvNetWriter().Build());
  testing::FailNthAllocation(1);
  Result<Model> model = Status::Error(StatusCode::kInternal, "unset");
  EXPECT_NO_THROW(model = Model::Create(buf.span()));
  testing::FailNthAllocation(0);
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace triage::inference
