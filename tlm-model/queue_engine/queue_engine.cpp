// Queue engine factory and kind names.
#include "tlm-model/queue_engine/queue_engine.h"

#include <stdexcept>

#include "tlm-model/queue_engine/queue_engine_lockstep.h"
#include "tlm-model/queue_engine/queue_engine_ref.h"
#include "tlm-model/queue_engine/queue_engine_rtl.h"

namespace chio::model {

bool parse_queue_engine_kind(const std::string& s, queue_engine_kind& out) {
    for (queue_engine_kind k :
         {queue_engine_kind::model, queue_engine_kind::rtl, queue_engine_kind::lockstep}) {
        if (s == to_string(k)) {
            out = k;
            return true;
        }
    }
    return false;
}

const char* to_string(queue_engine_kind k) {
    switch (k) {
        case queue_engine_kind::model:
            return "model";
        case queue_engine_kind::rtl:
            return "rtl";
        case queue_engine_kind::lockstep:
            return "lockstep";
    }
    return "?";
}

std::unique_ptr<queue_engine> make_queue_engine(queue_engine_kind k,
                                                const queue_engine_options& opt) {
    switch (k) {
        case queue_engine_kind::model:
            return std::make_unique<queue_engine_ref>();
        case queue_engine_kind::rtl:
            return std::make_unique<queue_engine_rtl>(opt);
        case queue_engine_kind::lockstep:
            return std::make_unique<queue_engine_lockstep>(opt);
    }
    throw std::invalid_argument("unknown queue engine kind");
}

}  // namespace chio::model
