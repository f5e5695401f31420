#include "server_core/license_json.h"

#include "server_core/json_text.h"

namespace sublink {

Result<std::string> make_license_json(const LicenseContent& c) {
  return write_json_text([&](JsonWriter& w) {
    w.begin_object()
        .key("serial").string(c.serial)
        .key("customer_id").string(c.customer_id)
        .key("system_id").string(c.system_id)
        .key("issued").integer(c.issued)
        .key("not_before").integer(c.not_before)
        .key("expires").integer(c.expires)
        .key("features").begin_array();
    for (const LicensedQuantity& f : c.features) {
      w.begin_object().key("name").string(f.name).key("qty").integer(f.qty).end_object();
    }
    w.end_array().end_object();
  });
}

}  // namespace sublink
