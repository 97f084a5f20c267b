#include "imaging/directory_camera.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "imaging/image.h"
#include "imaging/jpeg_codec.h"

namespace triage::imaging {
namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool HasImageExtension(const std::string& name) {
  const std::string n = Lower(name);
  for (const char* ext : {".jpg", ".jpeg", ".png", ".bmp"}) {
    const size_t len = std::strlen(ext);
    if (n.size() > len && n.compare(n.size() - len, len, ext) == 0) return true;
  }
  return false;
}

void CopySource(const std::string& name, char (&dst)[96]) {
  std::snprintf(dst, sizeof(dst), "%s", name.c_str());
}

// Reads a whole file into `buffer` without allocating. Returns the size.
Result<size_t> ReadInto(const char* path, Span<uint8_t> buffer) {
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return Status::Error(errno == ENOENT ? StatusCode::kNotFound : StatusCode::kIoError,
                         "%s: cannot open: %s", path, std::strerror(errno));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status::Error(StatusCode::kIoError, "%s: not a regular file", path);
  }
  const size_t size = static_cast<size_t>(st.st_size);
  if (size > buffer.size()) {
    ::close(fd);
    return Status::Error(StatusCode::kResourceExhausted,
                         "%s: %zu bytes do not fit the frame's %zu-byte buffer", path, size,
                         buffer.size());
  }
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::read(fd, buffer.data() + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      return Status::Error(StatusCode::kIoError, "%s: short read at %zu of %zu bytes", path, done,
                           size);
    }
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  return size;
}

}  // namespace

int64_t TimestampFromFileName(const std::string& name) {
  size_t i = 0;
  while (i < name.size()) {
    if (!std::isdigit(static_cast<unsigned char>(name[i]))) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < name.size() && std::isdigit(static_cast<unsigned char>(name[j]))) ++j;
    const size_t len = j - i;
    if (len >= 10 && len <= 13) {
      int64_t v = 0;
      for (size_t k = i; k < j; ++k) v = v * 10 + (name[k] - '0');
      // 10 digits: seconds; 13: milliseconds; 11-12: read as milliseconds too.
      return len == 10 ? v * 1'000'000 : v * 1'000;
    }
    i = j;
  }
  return -1;
}

Result<DirectoryCamera> DirectoryCamera::Create(const DirectoryCameraConfig& config) {
  DIR* dir = ::opendir(config.directory.c_str());
  if (dir == nullptr) {
    return Status::Error(StatusCode::kNotFound, "directory camera: %s: %s",
                         config.directory.c_str(), std::strerror(errno));
  }
  DirectoryCamera cam;
  cam.config_ = config;
  size_t longest = 0;
  while (dirent* e = ::readdir(dir)) {
    const std::string name = e->d_name;
    if (name.empty() || name[0] == '.' || !HasImageExtension(name)) continue;
    const std::string full = config.directory + "/" + name;
    struct stat st;
    if (::stat(full.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    int64_t ts = TimestampFromFileName(name);
    if (ts < 0) {
      ts = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000 + st.st_mtim.tv_nsec / 1000;
    }
    cam.files_.push_back(Entry{name, ts});
    longest = std::max(longest, name.size());
  }
  ::closedir(dir);
  if (cam.files_.empty()) {
    return Status::Error(StatusCode::kNotFound, "directory camera: %s holds no JPEG/PNG/BMP files",
                         config.directory.c_str());
  }
  if (config.order == ReplayOrder::kTimestamp) {
    std::sort(cam.files_.begin(), cam.files_.end(), [](const Entry& a, const Entry& b) {
      return a.timestamp_us != b.timestamp_us ? a.timestamp_us < b.timestamp_us : a.name < b.name;
    });
  } else {
    std::sort(cam.files_.begin(), cam.files_.end(),
              [](const Entry& a, const Entry& b) { return a.name < b.name; });
  }
  cam.path_.reserve(config.directory.size() + 1 + longest + 1);
  return cam;
}

Status DirectoryCamera::Seek(uint64_t next_index) {
  const uint64_t n = files_.size();
  next_ = static_cast<size_t>(config_.loop ? next_index % n : (next_index < n ? next_index : n));
  frame_id_ = next_index;
  return Status::Ok();
}

Status DirectoryCamera::Capture(Frame& frame) {
  if (next_ >= files_.size()) {
    if (!config_.loop) {
      return Status::Error(StatusCode::kOutOfRange, "directory camera: replay finished after %zu files",
                           files_.size());
    }
    next_ = 0;
  }
  const Entry& entry = files_[next_++];
  path_.assign(config_.directory);
  path_.push_back('/');
  path_.append(entry.name);

  frame.Clear();
  Result<size_t> size = ReadInto(path_.c_str(), frame.encoded);
  if (!size.ok()) return size.status();

  const Span<const uint8_t> bytes(frame.encoded.data(), size.value());
  const bool is_jpeg = bytes.size() >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF;
  if (is_jpeg) {
    // Header only: the frame carries its size like a sensor frame would.
    Result<JpegHeader> header = ParseJpegFrameHeader(bytes);
    if (!header.ok()) return header.status().WithContext("%s", path_.c_str());
    frame.encoding = FrameEncoding::kJpeg;
    frame.encoded_size = size.value();
    frame.width = header->width;
    frame.height = header->height;
  } else {
    // PNG/BMP: decoded through OpenCV on the heap (tool path; see header).
    Result<Image> image = DecodeImage(bytes, path_.c_str());
    if (!image.ok()) return image.status();
    const size_t need = static_cast<size_t>(image->width) * image->height * 3;
    if (need > frame.pixels.size()) {
      return Status::Error(StatusCode::kResourceExhausted,
                           "%s: %dx%d RGB does not fit the frame's %zu-byte pixel buffer",
                           path_.c_str(), image->width, image->height, frame.pixels.size());
    }
    const size_t n = static_cast<size_t>(image->width) * image->height;
    if (image->channels == 1) {
      for (size_t p = 0; p < n; ++p) {
        frame.pixels[3 * p] = frame.pixels[3 * p + 1] = frame.pixels[3 * p + 2] = image->pixels[p];
      }
    } else {
      std::memcpy(frame.pixels.data(), image->pixels.data(), need);
    }
    frame.encoding = FrameEncoding::kRgb8;
    frame.width = image->width;
    frame.height = image->height;
  }
  frame.meta.frame_id = frame_id_++;
  frame.meta.timestamp_us = entry.timestamp_us;
  frame.meta.exposure_ms = config_.camera.exposure_ms;
  for (int c = 0; c < 3; ++c) frame.meta.gain[c] = config_.camera.gain[c];
  CopySource(entry.name, frame.meta.source);
  return Status::Ok();
}

}  // namespace triage::imaging
