// DirectoryCamera: replays the JPEG, PNG and BMP files of one directory as
// camera frames, in file-name or timestamp order. For bench tests, replay of
// real OPS-SAT frames through the flight loop, and ground tools.
//
// JPEG files are copied as they are into the frame's encoded buffer (no
// decode, no allocation: the same path as a JPEG-producing sensor). PNG and
// BMP are decoded through OpenCV (this allocates on the heap per frame; use
// JPEG for allocation-free replay) into the frame's raw RGB buffer, so the
// pool needs raw capacity for them.
//
// Timestamp order uses the first run of 10 to 13 digits in the file name
// (OPS-SAT names carry Unix epoch milliseconds, e.g. opssat_1597679329520.jpeg;
// 10 digits are read as seconds), falling back to the file's mtime.
//
// Phase: Create() scans the directory (allocates the file list). Capture()
// is flight-safe for JPEG files. Not thread safe.
#ifndef TRIAGE_IMAGING_DIRECTORY_CAMERA_H_
#define TRIAGE_IMAGING_DIRECTORY_CAMERA_H_

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"
#include "imaging/camera.h"

namespace triage::imaging {

enum class ReplayOrder : uint8_t { kName, kTimestamp };

struct DirectoryCameraConfig {
  std::string directory;                 // required
  ReplayOrder order = ReplayOrder::kName;
  bool loop = false;                     // restart at the first file after the last
  CameraConfig camera;
};

class DirectoryCamera final : public Camera {
 public:
  // kNotFound if the directory is missing or holds no JPEG/PNG/BMP files.
  static Result<DirectoryCamera> Create(const DirectoryCameraConfig& config);

  // kOutOfRange after the last file (unless loop); kResourceExhausted when a
  // file does not fit the frame; kDataLoss for an unreadable image (the
  // replay moves on to the next file).
  Status Capture(Frame& frame) override;
  const char* name() const override { return "directory"; }
  // Next capture reads file number next_index in replay order (modulo the
  // file count when looping; past the end means the replay is finished).
  Status Seek(uint64_t next_index) override;

  size_t file_count() const { return files_.size(); }
  // Replay order, for tools and tests.
  const std::string& file_name(size_t i) const { return files_[i].name; }
  int64_t file_timestamp_us(size_t i) const { return files_[i].timestamp_us; }

 private:
  struct Entry {
    std::string name;      // file name within the directory
    int64_t timestamp_us;  // from the name, else mtime
  };
  DirectoryCamera() = default;

  DirectoryCameraConfig config_;
  std::vector<Entry> files_;
  std::string path_;       // scratch for the full path, reserved at Create
  size_t next_ = 0;
  uint64_t frame_id_ = 0;
};

// Timestamp (microseconds) from the first 10..13-digit run in a file name,
// or -1 if none.
int64_t TimestampFromFileName(const std::string& name);

}  // namespace triage::imaging

#endif  // TRIAGE_IMAGING_DIRECTORY_CAMERA_H_
