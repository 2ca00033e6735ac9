#pragma once
// BridgePool: the agent's instances as one node group over linode::Client (the idea of
// cluster-autoscaler's cloudprovider.NodeGroup,
// cluster-autoscaler/cloudprovider/cloud_provider.go): which instances are ours (label prefix +
// tags), the label counter, the idempotent create (label persisted before the POST, adoption by
// label after an ambiguous answer), delete, and the user data a new bridge boots with.
//
// Every answer of the Linode client (which arrives on its worker thread) is posted back onto
// the agent's io_context, so callers only ever run on the event loop.
#include <boost/asio/io_context.hpp>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agent/config.h"
#include "agent/durable_state.h"
#include "agent/time_source.h"
#include "linode/client.h"

namespace agent {

// The number n of a label "<prefix><n>", or nullopt.
std::optional<int64_t> label_number(const std::string& label, const std::string& prefix);
// Linode compares tags case-insensitively, and so do we.
bool tags_match(const std::vector<std::string>& wanted, const std::vector<std::string>& actual);
// Substitutes {{label}}, {{nickname}}, {{brewery}}, {{xmpp_host}}, {{region}} (DESIGN section 4).
std::string render_user_data(const std::string& text, const std::string& label,
                             const Config& config);

class BridgePool {
 public:
  template <class T>
  using Callback = std::function<void(linode::Result<T>)>;  // runs on the io_context

  // `config` is the live configuration (a reload changes region, type, image, template).
  BridgePool(const Config& config, linode::Client& client, DurableState& state,
             boost::asio::io_context& io);

  // Ours: label <prefix><n> and every configured tag (the list is already filtered by tag).
  bool owns(const linode::Instance& instance) const;
  std::vector<linode::Instance> owned(const std::vector<linode::Instance>& instances) const;

  // The label counter never goes back: raised above the highest number seen (a lost state
  // file restarts above the fleet). Saves when raised.
  void raise_label_counter(const std::vector<linode::Instance>& owned);

  // Chooses the next label and writes it to the state file. Returns nullopt, with the state
  // unchanged, when the file cannot be written: then nothing may be POSTed.
  std::optional<std::string> reserve_label(WallTime now);
  // POST /linode/instances for a reserved label.
  void create(const std::string& label, Callback<linode::Instance> done);
  // Lists instances by label (the ambiguous-create lookup).
  void find_by_label(const std::string& label, Callback<std::vector<linode::Instance>> done);
  // Lists every instance carrying the configured tags.
  void list(Callback<std::vector<linode::Instance>> done);
  void remove(int64_t linode_id, Callback<linode::Done> done);
  // ACPI shutdown through the Linode API: JVB stops gracefully and leaves the brewery.
  void shut_down(int64_t linode_id, Callback<linode::Done> done);

  // The label's POST answered (or its instance was adopted): remember the id. Saves.
  void bind(const std::string& label, int64_t linode_id);
  // The create is over without an instance (refused, or never created). Saves.
  void drop_pending(const std::string& label);
  // Labels reserved whose instance is not in the list yet.
  std::set<std::string> pending_labels() const;
  // Settles pending creates against the list: listed ones are done; ones still absent 2
  // minutes after their request (and not in flight) were never created. Returns the latter.
  // Saves when anything changed.
  std::vector<std::string> settle_pending(const std::set<std::string>& listed, WallTime now,
                                          const std::function<bool(const std::string&)>& in_flight);
  // Drops a drain record (the bridge is gone). Does not save.
  void forget_drain(const std::string& name);

  std::string user_data(const std::string& label) const;

 private:
  const Config& config_;
  linode::Client& client_;
  DurableState& state_;
  boost::asio::io_context& io_;
};

}  // namespace agent
