// kernels/types.h: shapes, offsets and data type helpers.
#include "kernels/types.h"

#include <gtest/gtest.h>

namespace triage::kernels {
namespace {

TEST(Types, ShapeHelpers) {
  const Shape s = MakeShape({2, 3, 4});
  EXPECT_EQ(s.rank, 3);
  EXPECT_EQ(s.FlatSize(), 24);
  EXPECT_EQ(MakeShape({}).FlatSize(), 1);
  const Shape e = ExtendTo4D(s);
  EXPECT_EQ(e, MakeShape({1, 2, 3, 4}));
  EXPECT_NE(e, s);
  EXPECT_EQ(Offset4D(e, 0, 1, 2, 3), (1 * 3 + 2) * 4 + 3);
  EXPECT_EQ(DataTypeSize(DataType::kFloat32), 4u);
  EXPECT_EQ(DataTypeSize(DataType::kInt8), 1u);
  EXPECT_EQ(DataTypeSize(DataType::kInt64), 8u);
  EXPECT_STREQ(DataTypeName(DataType::kUint8), "uint8");
}

TEST(Types, ExtendTo4DLeftPadsWithOnes) {
  EXPECT_EQ(ExtendTo4D(MakeShape({})), MakeShape({1, 1, 1, 1}));
  EXPECT_EQ(ExtendTo4D(MakeShape({7})), MakeShape({1, 1, 1, 7}));
  EXPECT_EQ(ExtendTo4D(MakeShape({2, 3, 4, 5})), MakeShape({2, 3, 4, 5}));
}

TEST(Types, DataTypeSizesAndNames) {
  EXPECT_EQ(DataTypeSize(DataType::kInt32), 4u);
  EXPECT_EQ(DataTypeSize(DataType::kInt16), 2u);
  EXPECT_EQ(DataTypeSize(DataType::kUint8), 1u);
  EXPECT_EQ(DataTypeSize(static_cast<DataType>(1)), 0u);
  EXPECT_STREQ(DataTypeName(DataType::kInt8), "int8");
  EXPECT_STREQ(DataTypeName(DataType::kFloat32), "float32");
  EXPECT_STREQ(DataTypeName(static_cast<DataType>(1)), "unknown");
}

}  // namespace
}  // namespace triage::kernels
