// The end-of-run summary: a text table for people and a JSON document for
// tools and tests. Built after the loop stops (allocates freely).
#ifndef TRIAGE_APP_FLIGHT_REPORT_H_
#define TRIAGE_APP_FLIGHT_REPORT_H_

#include <string>

#include "app/flight_loop.h"

namespace triage::app {

// Frames per class; kept / thumbnail-only / discarded / failed; bytes
// captured, queued and sent; the fraction of downlink saved versus sending
// every frame as captured; median time per stage; every non-zero drop
// reason; agreement with simulator truth when the source has one.
std::string FormatSummaryTable(const FlightLoop& loop, StopReason reason);
std::string SummaryJson(const FlightLoop& loop, StopReason reason);

}  // namespace triage::app

#endif  // TRIAGE_APP_FLIGHT_REPORT_H_
