#include "inference/interpreter.h"

#include <cstring>
#include <new>
#include <limits>

#include "inference/memory_planner.h"

namespace triage::inference {

struct Interpreter::OpState {
  const OpRegistration* registration = nullptr;
  void* op_data = nullptr;
};

class Interpreter::PrepareCtx final : public PrepareContext {
 public:
  PrepareCtx(Interpreter& interp, int index) : interp_(interp), index_(index) {}
  int op_index() const override { return index_; }
  const OperatorSpec& op() const override { return interp_.model_.operators()[static_cast<size_t>(index_)]; }
  const Model& model() const override { return interp_.model_; }
  void* AllocatePersistent(size_t bytes) override {
    const size_t blocks = (bytes + sizeof(std::max_align_t) - 1) / sizeof(std::max_align_t);
    std::unique_ptr<std::max_align_t[]> block(new (std::nothrow) std::max_align_t[blocks == 0 ? 1 : blocks]());
    if (!block) return nullptr;
    void* p = block.get();
    interp_.op_blocks_.push_back(std::move(block));
    interp_.op_data_bytes_ += blocks * sizeof(std::max_align_t);
    return p;
  }
  void SetOpData(void* data) override { interp_.ops_[static_cast<size_t>(index_)].op_data = data; }
  const kernels::KernelTable& kernels() const override { return *interp_.kernels_; }
  const void* PackGemm(const kernels::optimized::GemmPackSource& source) override {
    const size_t bytes = kernels::optimized::PackedGemmBytes(source.n, source.k);
    const size_t blocks = (bytes + sizeof(std::max_align_t) - 1) / sizeof(std::max_align_t);
    std::unique_ptr<std::max_align_t[]> block(new (std::nothrow) std::max_align_t[blocks == 0 ? 1 : blocks]());
    if (!block || bytes == 0) return nullptr;
    void* p = block.get();
    interp_.op_blocks_.push_back(std::move(block));
    interp_.packed_bytes_ += blocks * sizeof(std::max_align_t);
    kernels::optimized::PackGemm(source, p);
    interp_.packed_regions_.push_back(PackedRegion{static_cast<const uint8_t*>(p), bytes, source});
    return p;
  }
  kernels::Parallel* parallel() const override { return interp_.pool_.get(); }

 private:
  Interpreter& interp_;
  int index_;
};

class Interpreter::EvalCtx final : public EvalContext {
 public:
  EvalCtx(const Interpreter& interp, const OperatorSpec& op, void* op_data)
      : interp_(interp), op_(op), op_data_(op_data) {}
  const RuntimeTensor& input(int i) const override { return Lookup(op_.inputs, i); }
  const RuntimeTensor& output(int i) const override { return Lookup(op_.outputs, i); }
  void* op_data() const override { return op_data_; }
  const kernels::KernelTable& kernels() const override { return *interp_.kernels_; }

 private:
  const RuntimeTensor& Lookup(Span<const int32_t> list, int i) const {
    static const RuntimeTensor kOmitted;
    if (i < 0 || static_cast<size_t>(i) >= list.size()) return kOmitted;
    const int32_t t = list[static_cast<size_t>(i)];
    return t < 0 ? kOmitted : interp_.tensors_[static_cast<size_t>(t)];
  }
  const Interpreter& interp_;
  const OperatorSpec& op_;
  void* op_data_;
};

Interpreter::Interpreter(const Model& model, const OpResolver& resolver, const InterpreterOptions& options)
    : model_(model), resolver_(resolver), options_(options), kernels_(&kernels::GetKernelTable(options.kernel_set)) {}
Interpreter::~Interpreter() = default;
Interpreter::Interpreter(Interpreter&&) noexcept = default;

Status Interpreter::Prepare() {
  if (prepared_) return Status::Ok();
  // Prepare builds its tables in std::vector; an allocation failure must
  // come back as a Status, not cross into the caller as an exception.
  try {
    return PrepareUnchecked();
  } catch (const std::bad_alloc&) {
    return Status::Error(StatusCode::kResourceExhausted, "interpreter: out of memory during Prepare");
  }
}

Status Interpreter::PrepareUnchecked() {
  const auto specs = model_.tensors();
  const auto ops = model_.operators();
  tensors_.assign(specs.size(), RuntimeTensor{});
  for (size_t i = 0; i < specs.size(); ++i) {
    const TensorSpec& s = specs[i];
    RuntimeTensor& t = tensors_[i];
    t.index = static_cast<int>(i);
    t.type = s.type;
    t.shape = s.shape;
    t.bytes = s.bytes;
    t.data = const_cast<uint8_t*>(s.data);  // constants: kernels only read them
    if (!s.quant.scales.empty()) {
      t.scale = s.quant.scales[0];
      t.zero_point = static_cast<int32_t>(s.quant.zero_points[0]);
    }
  }

  // Workers start here, once, before any operator keeps a pointer to them.
  if (options_.threads < 1 || options_.threads > kernels::WorkerPool::kMaxThreads) {
    return Status::Error(StatusCode::kInvalidArgument, "interpreter: threads %d is outside [1, %d]",
                         options_.threads, kernels::WorkerPool::kMaxThreads);
  }
  if (options_.threads > 1 && kernels_->ukernels != nullptr && !pool_) {
    Result<std::unique_ptr<kernels::WorkerPool>> pool = kernels::WorkerPool::Create(options_.threads, options_.min_parallel_work);
    if (!pool.ok()) return pool.status().WithContext("interpreter");
    pool_ = std::move(pool.value());
  }

  ops_.assign(ops.size(), OpState{});
  op_blocks_.clear();
  op_data_bytes_ = 0;
  packed_bytes_ = 0;
  packed_regions_.clear();
  // Resolve every operator first, so an unsupported operator is reported by
  // name before any operator-specific validation runs.
  for (size_t i = 0; i < ops.size(); ++i) {
    const OperatorSpec& op = ops[i];
    const OpRegistration* reg = resolver_.Find(op.code);
    if (reg == nullptr) {
      return Status::Error(StatusCode::kUnsupported, "op %zu (%s): operator not supported by this interpreter", i,
                           BuiltinOpName(op.code));
    }
    if (op.version < reg->min_version || op.version > reg->max_version) {
      return Status::Error(StatusCode::kUnsupported, "op %zu (%s): version %d unsupported (supported %d..%d)", i,
                           reg->name, op.version, reg->min_version, reg->max_version);
    }
    ops_[i].registration = reg;
  }
  for (size_t i = 0; i < ops.size(); ++i) {
    PrepareCtx ctx(*this, static_cast<int>(i));
    Status s = ops_[i].registration->prepare(ctx);
    if (!s.ok()) return s.WithContext("op %zu (%s)", i, ops_[i].registration->name);
  }

  for (size_t i = 0; i < specs.size(); ++i) {
    if (specs[i].is_variable) {
      return Status::Error(StatusCode::kUnsupported, "tensor %zu (%s): variable (stateful) tensors unsupported", i,
                           specs[i].name);
    }
  }

  // Lifetimes in operator steps. Graph inputs and outputs span the whole run:
  // inputs are never overwritten, outputs stay readable after Invoke.
  const int last_step = static_cast<int>(ops.size());
  constexpr int kUnused = std::numeric_limits<int>::max();
  std::vector<int> first(specs.size(), kUnused), last(specs.size(), -1);
  for (int32_t idx : model_.inputs()) {
    first[idx] = 0;
    last[idx] = last_step;
  }
  for (size_t i = 0; i < ops.size(); ++i) {
    const int step = static_cast<int>(i);
    for (int32_t idx : ops[i].inputs) {
      if (idx >= 0 && !specs[idx].is_constant()) last[idx] = std::max(last[idx], step);
    }
    for (int32_t idx : ops[i].outputs) {
      first[idx] = std::min(first[idx], step);
      last[idx] = std::max(last[idx], step);
    }
  }
  for (int32_t idx : model_.outputs()) last[idx] = last_step;

  std::vector<PlannedBuffer> buffers;
  std::vector<size_t> buffer_tensor;
  for (size_t i = 0; i < specs.size(); ++i) {
    if (specs[i].is_constant() || first[i] == kUnused) continue;
    buffers.push_back(PlannedBuffer{specs[i].bytes, first[i], last[i], 0});
    buffer_tensor.push_back(i);
  }
  arena_bytes_ = MemoryPlanner::Plan(buffers);
  offsets_.assign(specs.size(), std::numeric_limits<size_t>::max());
  for (size_t b = 0; b < buffers.size(); ++b) offsets_[buffer_tensor[b]] = buffers[b].offset;
  prepared_ = true;
  return Status::Ok();
}

Status Interpreter::AllocateTensors(Span<uint8_t> arena) {
  if (!prepared_) {
    return Status::Error(StatusCode::kFailedPrecondition, "interpreter: AllocateTensors before Prepare");
  }
  if (arena.empty()) {
    const size_t blocks = (arena_bytes_ + sizeof(std::max_align_t) - 1) / sizeof(std::max_align_t);
    owned_arena_.reset(new (std::nothrow) std::max_align_t[blocks == 0 ? 1 : blocks]());
    if (!owned_arena_) {
      return Status::Error(StatusCode::kResourceExhausted, "interpreter: cannot allocate a %zu-byte arena",
                           arena_bytes_);
    }
    arena = Span<uint8_t>(reinterpret_cast<uint8_t*>(owned_arena_.get()), arena_bytes_);
  } else {
    if (arena.size() < arena_bytes_) {
      return Status::Error(StatusCode::kResourceExhausted,
                           "interpreter: arena too small: %zu bytes given, %zu bytes needed", arena.size(),
                           arena_bytes_);
    }
    if (reinterpret_cast<uintptr_t>(arena.data()) % MemoryPlanner::kAlignment != 0) {
      return Status::Error(StatusCode::kInvalidArgument, "interpreter: arena must be %zu-byte aligned",
                           MemoryPlanner::kAlignment);
    }
  }
  arena_ = arena;
  for (size_t i = 0; i < tensors_.size(); ++i) {
    if (offsets_[i] != std::numeric_limits<size_t>::max()) tensors_[i].data = arena.data() + offsets_[i];
  }
  allocated_ = true;
  return Status::Ok();
}

Status Interpreter::PrepareAndAllocate(Span<uint8_t> arena) {
  TRIAGE_RETURN_IF_ERROR(Prepare());
  return AllocateTensors(arena);
}

Status Interpreter::Invoke() {
  if (!allocated_) {
    return Status::Error(StatusCode::kFailedPrecondition, "interpreter: Invoke before Prepare/AllocateTensors");
  }
  const auto ops = model_.operators();
  for (size_t i = 0; i < ops.size(); ++i) {
    const OpState& state = ops_[i];
    EvalCtx ctx(*this, ops[i], state.op_data);
    Status s = state.registration->eval(ctx);
    if (!s.ok()) return s.WithContext("op %zu (%s)", i, state.registration->name);
    if (options_.observer) {
      Status o = options_.observer(options_.observer_user, *this, static_cast<int>(i));
      if (!o.ok()) return o.WithContext("observer after op %zu", i);
    }
  }
  return Status::Ok();
}

TensorView Interpreter::tensor(int index) const {
  TensorView v;
  if (index < 0 || static_cast<size_t>(index) >= model_.tensors().size()) return v;
  const TensorSpec& spec = model_.tensors()[static_cast<size_t>(index)];
  v.index = index;
  v.name = spec.name;
  v.type = spec.type;
  v.shape = spec.shape;
  v.bytes = spec.bytes;
  if (!spec.quant.scales.empty()) {
    v.scale = spec.quant.scales[0];
    v.zero_point = static_cast<int32_t>(spec.quant.zero_points[0]);
  }
  if (static_cast<size_t>(index) < tensors_.size()) v.data = tensors_[static_cast<size_t>(index)].data;
  return v;
}

TensorView Interpreter::input(size_t i) const {
  return i < model_.inputs().size() ? tensor(model_.inputs()[i]) : TensorView{};
}

TensorView Interpreter::output(size_t i) const {
  return i < model_.outputs().size() ? tensor(model_.outputs()[i]) : TensorView{};
}

bool Interpreter::RepackRegion(size_t i) noexcept {
  if (i >= packed_regions_.size()) return false;
  const PackedRegion& r = packed_regions_[i];
  kernels::optimized::PackGemm(r.source, const_cast<uint8_t*>(r.data));
  return true;
}

}  // namespace triage::inference
