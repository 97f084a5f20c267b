#include "core/status.h"

#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "core/result.h"

namespace triage {
namespace {

TEST(Status, ErrorCarriesCodeAndFormattedMessage) {
  Status s = Status::Error(StatusCode::kDataLoss, "packet %d: crc", 7);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_STREQ(s.message(), "packet 7: crc");
  Status c = s.WithContext("radio");
  EXPECT_STREQ(c.message(), "radio: packet 7: crc");
  EXPECT_EQ(c.code(), StatusCode::kDataLoss);
}

TEST(Status, LongMessagesAreTruncated) {
  std::string big(1000, 'y');
  Status s = Status::Error(StatusCode::kInternal, "%s", big.c_str());
  EXPECT_EQ(std::strlen(s.message()), Status::kMaxMessage - 1);
}

}  // namespace
}  // namespace triage
