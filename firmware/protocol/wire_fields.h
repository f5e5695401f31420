// The field shapes every sublink/1 message is made of (PROTOCOL.md section
// 4), shared by the device and the server so each message has one type, one
// reader and one writer (device_messages.h, server_messages.h):
//   Envelope   who a message asks (`id`) or answers (`re`)
//   JsonValue  a field the protocol leaves open (welcome.session, params, ...)
//   WireList   a list of objects (features, usage, events)
// and the ranges a reader checks where a field enters.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "firmware/json/json_reader.h"

struct cJSON;

namespace sublink {

inline constexpr int kProtocolVersion = 1;

/// Longest identifier read (customer_id, system_id, serial): the device
/// keeps them in 63 bytes; the bound keeps a server's records small.
inline constexpr size_t kMaxWireIdLength = 255;
/// Longest name read (type, feature, kind, error code, agent, fw, role, state).
inline constexpr size_t kMaxWireNameLength = 255;
/// Largest feature quantity read (license_request qty).
inline constexpr int64_t kMaxWireQuantity = UINT32_MAX;
/// An event stream id is exactly this many lower-case hex digits.
inline constexpr size_t kEventStreamIdLength = 16;

/// True when `text` is an event stream id: 16 lower-case hex digits.
bool is_event_stream_id(std::string_view text);

/// The envelope of a message: `id` on a request (answered with `re` = id),
/// `re` on an answer. A writer leaves a nullopt field out; a reader fills
/// what was there.
struct Envelope {
  std::optional<int64_t> id;
  std::optional<int64_t> re;
};

/// A message type the reader does not know: ignored (forward compatibility).
struct UnknownMessage {
  std::string_view type;
};

/// A field the protocol leaves open (any JSON value). A reader gives the
/// node of the received document (nullptr when absent); a writer writes
/// `text`, one JSON value, as it is (empty: the field is left out). It
/// converts to the node, so a reader's user treats it as a cJSON pointer.
struct JsonValue {
  const cJSON* node = nullptr;
  std::string_view text;

  JsonValue() = default;
  JsonValue(const cJSON* read) : node(read) {}  // NOLINT: implicit, the reader's side
  static JsonValue of_text(std::string_view json) {
    JsonValue v;
    v.text = json;
    return v;
  }
  operator const cJSON*() const { return node; }  // NOLINT: implicit, read as a node
};

/// A list of names in a message (hello `services`). A writer's side holds a
/// span of names (it converts implicitly); a reader's side holds the
/// received array, checked whole by read_wire_names, and visits its strings.
class WireNames {
 public:
  WireNames() = default;
  WireNames(std::span<const std::string_view> items) : items_(items) {}  // NOLINT: implicit, the writer's side
  template <size_t N>
  WireNames(const std::string_view (&items)[N]) : items_(items) {}  // NOLINT: implicit, the writer's side
  explicit WireNames(const cJSON* array) : array_(array) {}

  class Iterator {
   public:
    Iterator(const std::string_view* item, const cJSON* element) : item_(item), element_(element) {}
    std::string_view operator*() const;
    Iterator& operator++();
    bool operator!=(const Iterator& other) const { return item_ != other.item_ || element_ != other.element_; }

   private:
    const std::string_view* item_;
    const cJSON* element_;
  };
  Iterator begin() const;
  Iterator end() const;
  size_t size() const;
  /// True for a reader's list (the received array), false for a writer's.
  bool received() const { return array_ != nullptr; }
  /// A writer's names (empty for a received list).
  std::span<const std::string_view> items() const { return items_; }

 private:
  std::span<const std::string_view> items_;
  const cJSON* array_ = nullptr;
};

/// Reads the array `name` of strings, each 1..`max_length` bytes, at most
/// `max_count` of them. nullopt when it is absent, null or breaks those
/// ranges; no error is kept in `r` (a field the reader may do without).
std::optional<WireNames> read_wire_names(const JsonReader& r, const char* name, size_t max_length, size_t max_count);

/// A list of objects in a message. A writer's side holds a span of items
/// (it converts implicitly, so a sender assigns its array); a reader's side
/// holds the received array, checked whole by read_wire_list, and reads
/// each element again as it is visited. Either way it iterates items of T
/// (by value: views into the sender's data or the received document).
template <class T>
class WireList {
 public:
  /// Reads one element; the element was checked, so it does not fail.
  using ReadElement = T (*)(JsonReader& element);

  WireList() = default;
  WireList(std::span<const T> items) : items_(items) {}  // NOLINT: implicit, the writer's side
  template <size_t N>
  WireList(const T (&items)[N]) : items_(items) {}  // NOLINT: implicit, the writer's side
  WireList(const cJSON* array, ReadElement read) : array_(array), read_(read) {}

  class Iterator {
   public:
    Iterator(const T* item, const cJSON* element, ReadElement read) : item_(item), element_(element), read_(read) {}
    T operator*() const {
      if (item_ != nullptr) return *item_;
      JsonReader r(element_);
      return read_(r);
    }
    Iterator& operator++() {
      if (item_ != nullptr) {
        ++item_;
      } else {
        element_ = json_next_element(element_);
      }
      return *this;
    }
    bool operator!=(const Iterator& other) const { return item_ != other.item_ || element_ != other.element_; }

   private:
    const T* item_;
    const cJSON* element_;
    ReadElement read_;
  };

  Iterator begin() const {
    if (array_ != nullptr) return {nullptr, json_first_element(array_), read_};
    return {items_.data(), nullptr, read_};
  }
  Iterator end() const {
    if (array_ != nullptr) return {nullptr, nullptr, read_};
    return {items_.data() + items_.size(), nullptr, read_};
  }
  /// True for a reader's list (the received array), false for a writer's.
  bool received() const { return array_ != nullptr; }
  /// A writer's items (empty for a received list).
  std::span<const T> items() const { return items_; }
  size_t size() const {
    if (array_ == nullptr) return items_.size();
    size_t n = 0;
    for (const cJSON* e = json_first_element(array_); e != nullptr; e = json_next_element(e)) ++n;
    return n;
  }
  bool empty() const { return size() == 0; }

 private:
  std::span<const T> items_;
  const cJSON* array_ = nullptr;
  ReadElement read_ = nullptr;
};

/// Reads the required array `name` of objects, each with `read`, and keeps
/// the first error in `r` (named "name[i].field"). The list visits the same
/// elements later without error.
template <class T>
WireList<T> read_wire_list(JsonReader& r, const char* name, typename WireList<T>::ReadElement read) {
  const cJSON* array = r.array(name);
  if (!r.ok()) return {};
  int32_t index = 0;
  for (const cJSON* e = json_first_element(array); e != nullptr; e = json_next_element(e)) {
    JsonReader element(e, name, index++);
    (void)read(element);
    if (!element.ok()) {
      r = element;
      return {};
    }
  }
  return WireList<T>(array, read);
}

}  // namespace sublink
