#include "testbenches/scenarios/topology_settings.h"

#include <stdexcept>
#include <string>

#include "cosim/adapter_params_cli.h"
#include "cosim/pcie_link_params.h"

namespace chio::tb {

void apply_param_settings(const sim_options& o, cosim::topology_params& tp) {
    std::string err;
    for (const std::string& kv : o.pcie_settings) {
        if (!cosim::set_pcie_param(tp.host.link, kv, err)) throw std::invalid_argument(err);
    }
    for (const std::string& kv : o.adapter_settings) {
        if (!cosim::set_adapter_param(tp, kv, err)) throw std::invalid_argument(err);
    }
}

}  // namespace chio::tb
