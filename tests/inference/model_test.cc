// Model::Create treats the file as untrusted: every malformed variant below
// must be refused with a Status naming what and where, never a crash.
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include <gtest/gtest.h>

#include "inference/interpreter.h"
#include "inference/model.h"
#include "inference/model_writer.h"
#include "inference/op_resolver.h"
#include "tests/support/shared_paths.h"
#include "tests/support/tiny_models.h"

namespace triage::inference {
namespace {

using testing::FloatFcWriter;
using testing::Int8NetWriter;
using testing::Uint8ConvNetWriter;

// Loads bytes and returns the status message ("" when accepted).
std::string LoadError(const std::vector<uint8_t>& bytes) {
  AlignedBuffer buf = ToAligned(bytes);
  auto model = Model::Create(buf.span());
  return model.ok() ? std::string() : std::string(model.status().message());
}

// Loads and prepares with every builtin registered.
std::string PrepareError(const std::vector<uint8_t>& bytes) {
  AlignedBuffer buf = ToAligned(bytes);
  auto model = Model::Create(buf.span());
  if (!model.ok()) return model.status().message();
  OpResolver resolver;
  EXPECT_TRUE(AddAllBuiltinOps(resolver).ok());
  Interpreter interp(*model, resolver);
  Status s = interp.PrepareAndAllocate();
  return s.ok() ? std::string() : std::string(s.message());
}

bool Contains(const std::string& s, const char* what) { return s.find(what) != std::string::npos; }

TEST(Model, AcceptsWellFormedSyntheticModels) {
  for (const auto& m : testing::AllTinyModels()) EXPECT_EQ(PrepareError(m.bytes), "") << m.name;
}

TEST(Model, RefusesEmptyTinyAndForeignBuffers) {
  EXPECT_TRUE(Contains(LoadError({}), "too small"));
  EXPECT_TRUE(Contains(LoadError(std::vector<uint8_t>(64, 0)), "TFL3"));
  std::vector<uint8_t> bytes = FloatFcWriter().Build();
  bytes[4] = 'X';  // file identifier lives at bytes 4..7
  EXPECT_TRUE(Contains(LoadError(bytes), "TFL3"));
}

TEST(Model, RefusesMisalignedBuffer) {
  const std::vector<uint8_t> bytes = FloatFcWriter().Build();
  AlignedBuffer buf(bytes.size() + 1);
  std::memcpy(buf.data() + 1, bytes.data(), bytes.size());
  auto model = Model::Create(Span<const uint8_t>(buf.data() + 1, bytes.size()));
  ASSERT_FALSE(model.ok());
  EXPECT_TRUE(Contains(model.status().message(), "aligned"));
}

TEST(Model, EveryTruncationIsRefusedWithoutCrashing) {
  const std::vector<uint8_t> bytes = Uint8ConvNetWriter().Build();
  for (size_t len = 0; len < bytes.size(); len += 7) {
    std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + static_cast<long>(len));
    EXPECT_NE(LoadError(cut), "") << "accepted a file truncated to " << len << " bytes";
  }
}

TEST(Model, RefusesWrongSchemaVersion) {
  auto w = FloatFcWriter();
  w.SetSchemaVersion(2);
  EXPECT_TRUE(Contains(LoadError(w.Build()), "schema version 2"));
}

TEST(Model, RefusesExtraSubgraphsWithReason) {
  auto w = FloatFcWriter();
  w.SetExtraSubgraphs(2);
  const std::string e = LoadError(w.Build());
  EXPECT_TRUE(Contains(e, "3 subgraphs")) << e;
  EXPECT_TRUE(Contains(e, "only subgraph 0")) << e;
}

TEST(Model, RefusesBufferSizeThatDoesNotMatchShape) {
  auto w = FloatFcWriter();
  w.tensors()[1].data.resize(40);  // weights [3,4] float need 48 bytes
  const std::string e = LoadError(w.Build());
  EXPECT_TRUE(Contains(e, "tensor 1 (weights)")) << e;
  EXPECT_TRUE(Contains(e, "needs 48")) << e;
}

TEST(Model, RefusesNonPositiveDimensions) {
  auto w = FloatFcWriter();
  w.tensors()[0].shape = {1, -4};
  EXPECT_TRUE(Contains(LoadError(w.Build()), "tensor 0 (input): dimension 1 is -4"));
}

TEST(Model, RefusesBadScalesAndZeroPoints) {
  for (float bad : {0.0f, -1.0f, std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
    auto w = Uint8ConvNetWriter();
    w.tensors()[0].scales = {bad};
    const std::string e = LoadError(w.Build());
    EXPECT_TRUE(Contains(e, "tensor 0 (input): scale[0]")) << e;
  }
  auto w = Uint8ConvNetWriter();
  w.tensors()[0].zero_points = {300};
  EXPECT_TRUE(Contains(LoadError(w.Build()), "zero point[0] = 300 outside uint8"));
  auto w2 = Uint8ConvNetWriter();
  w2.tensors()[0].zero_points = {1, 2};
  EXPECT_TRUE(Contains(LoadError(w2.Build()), "1 scales but 2 zero points"));
}

TEST(Model, RefusesPerChannelCountMismatch) {
  auto w = Int8NetWriter();
  w.tensors()[2].scales = {0.1f, 0.2f};  // conv_w has 3 output channels
  w.tensors()[2].zero_points = {0, 0};
  const std::string e = LoadError(w.Build());
  EXPECT_TRUE(Contains(e, "tensor 2 (conv_w): 2 per-channel scales")) << e;
}

TEST(Model, AcceptsRank1PerChannelBiasWithAnyQuantizedDimension) {
  // person_detect.tflite stores quantized_dimension=3 on rank-1 biases; we
  // accept it because the per-channel count matches the only dimension.
  auto w = Int8NetWriter();
  w.tensors()[3].quantized_dimension = 3;  // conv_b, rank 1, 3 scales
  EXPECT_EQ(PrepareError(w.Build()), "");
  w.tensors()[3].shape = {1, 3};
  w.tensors()[3].data.resize(12);
  EXPECT_TRUE(Contains(LoadError(w.Build()), "quantized_dimension 3 outside rank 2"));
}

TEST(Model, RefusesOutOfRangeTensorIndices) {
  auto w = FloatFcWriter();
  w.operators()[0].inputs = {0, 1, 99};
  EXPECT_TRUE(Contains(LoadError(w.Build()), "op 0 (FULLY_CONNECTED): input[2] = 99 out of range"));
  auto w2 = FloatFcWriter();
  w2.SetOutputs({42});
  EXPECT_TRUE(Contains(LoadError(w2.Build()), "subgraph output[0] = 42"));
}

TEST(Model, RefusesInvalidExecutionOrder) {
  // Swap the two last operators of the uint8 net: SOFTMAX would read RESHAPE's
  // output before RESHAPE runs.
  auto w = Uint8ConvNetWriter();
  std::swap(w.operators()[3], w.operators()[4]);
  const std::string e = LoadError(w.Build());
  EXPECT_TRUE(Contains(e, "op 3 (SOFTMAX)")) << e;
  EXPECT_TRUE(Contains(e, "invalid execution order")) << e;
}

TEST(Model, RefusesTensorWrittenTwice) {
  auto w = FloatFcWriter();
  w.AddOperator(w.operators()[0]);
  EXPECT_TRUE(Contains(LoadError(w.Build()), "op 1 (FULLY_CONNECTED): output tensor 3 (output)"));
}

TEST(Model, RefusesCustomOperatorByName) {
  auto w = FloatFcWriter();
  w.operators()[0].code = 32;  // CUSTOM
  w.operators()[0].custom_code = "MyMagicOp";
  EXPECT_TRUE(Contains(LoadError(w.Build()), "custom operator \"MyMagicOp\""));
}

TEST(Model, UnknownOperatorIsRefusedByNameAtPrepare) {
  auto w = FloatFcWriter();
  w.operators()[0].code = 39;  // TRANSPOSE: valid TFLite, not supported here
  const std::string e = PrepareError(w.Build());
  EXPECT_TRUE(Contains(e, "op 0 (TRANSPOSE): operator not supported")) << e;
  auto w2 = FloatFcWriter();
  w2.operators()[0].code = 150;  // past our schema's enum: still named
  EXPECT_TRUE(Contains(PrepareError(w2.Build()), "GELU") || Contains(PrepareError(w2.Build()), "BUILTIN_150"));
}

TEST(Model, UnsupportedOperatorVersionIsRefused) {
  auto w = FloatFcWriter();
  w.operators()[0].version = 99;
  EXPECT_TRUE(Contains(PrepareError(w.Build()), "op 0 (FULLY_CONNECTED): version 99 unsupported"));
}

TEST(Model, OperatorContractViolationNamesOpAndTensor) {
  auto w = Uint8ConvNetWriter();
  w.tensors()[3].shape = {1, 5, 4, 4};  // conv_out should be [1,4,4,4]
  const std::string e = PrepareError(w.Build());
  EXPECT_TRUE(Contains(e, "op 0 (CONV_2D): output tensor 3")) << e;
  auto w2 = Int8NetWriter();
  w2.tensors()[2].zero_points = {0, 5, 0};  // asymmetric int8 weights
  EXPECT_TRUE(Contains(PrepareError(w2.Build()), "op 1 (CONV_2D): filter tensor 2: zero point[1] = 5"));
}

TEST(Model, ExposesMetadataAndWeightBytes) {
  auto w = FloatFcWriter();
  w.AddMetadata("labels", {'a', '\n', 'b'});
  AlignedBuffer buf = ToAligned(w.Build());
  auto model = Model::Create(buf.span());
  ASSERT_TRUE(model.ok()) << model.status().message();
  EXPECT_EQ(model->Metadata("labels").size(), 3u);
  EXPECT_TRUE(model->Metadata("absent").empty());
  EXPECT_EQ(model->weight_bytes(), 48u + 12u);
}

TEST(Model, LoadsEverySharedModel) {
  TRIAGE_REQUIRE_SHARED();
  for (const char* name : {"hello_world_float.tflite", "hello_world_int8.tflite", "person_detect.tflite",
                           "mobilenet_v1_0.25_128_quant.tflite", "mobilenet_v2_1.0_224_quant.tflite",
                           "tf2_mobilenet_v2_1.0_224_ptq.tflite", "keyword_scrambled.tflite"}) {
    auto file = ReadFileAligned(testing::SharedPath(std::string("models/") + name));
    ASSERT_TRUE(file.ok()) << file.status().message();
    auto model = Model::Create(file->span());
    EXPECT_TRUE(model.ok()) << name << ": " << model.status().message();
  }
}

TEST(Model, ReadFileAlignedReportsMissingFile) {
  auto r = ReadFileAligned("/nonexistent/model.tflite");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Contains(r.status().message(), "/nonexistent/model.tflite: cannot open"));
}

}  // namespace
}  // namespace triage::inference
