#include "agent/bridge_pool.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <cctype>

namespace agent {

namespace {

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

bool equal_ignoring_case(const std::string& a, const std::string& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// Wraps a callback so that it runs on `io` (the Linode client calls back on its worker).
template <class T>
linode::Client::Callback<T> on_loop(boost::asio::io_context& io, BridgePool::Callback<T> done) {
  return [&io, done = std::move(done)](linode::Result<T> result) mutable {
    boost::asio::post(io, [done = std::move(done), result = std::move(result)]() mutable {
      done(std::move(result));
    });
  };
}

}  // namespace

std::optional<int64_t> label_number(const std::string& label, const std::string& prefix) {
  if (label.rfind(prefix, 0) != 0 || label.size() == prefix.size()) return std::nullopt;
  int64_t n = 0;
  for (size_t i = prefix.size(); i < label.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(label[i])) || n > 1'000'000'000) {
      return std::nullopt;
    }
    n = n * 10 + (label[i] - '0');
  }
  return n;
}

bool tags_match(const std::vector<std::string>& wanted, const std::vector<std::string>& actual) {
  return std::all_of(wanted.begin(), wanted.end(), [&](const std::string& tag) {
    return std::any_of(actual.begin(), actual.end(),
                       [&](const std::string& have) { return equal_ignoring_case(tag, have); });
  });
}

std::string render_user_data(const std::string& template_text, const std::string& label,
                             const Config& config) {
  std::string text = template_text;
  text = replace_all(text, "{{label}}", label);
  text = replace_all(text, "{{nickname}}", label);
  text = replace_all(text, "{{brewery}}", config.xmpp.brewery);
  text = replace_all(text, "{{xmpp_host}}", config.xmpp.effective_advertise_host());
  text = replace_all(text, "{{region}}", config.linode.region);
  return text;
}

BridgePool::BridgePool(const Config& config, linode::Client& client, DurableState& state,
                       boost::asio::io_context& io)
    : config_(config), client_(client), state_(state), io_(io) {}

bool BridgePool::owns(const linode::Instance& instance) const {
  // An instance without tags in the answer was still selected by the tag filter of the list.
  return label_number(instance.label, config_.linode.label_prefix).has_value() &&
         (instance.tags.empty() || tags_match(config_.linode.tags, instance.tags));
}

std::vector<linode::Instance> BridgePool::owned(
    const std::vector<linode::Instance>& instances) const {
  std::vector<linode::Instance> mine;
  for (const auto& instance : instances) {
    if (owns(instance)) mine.push_back(instance);  // tagged but not ours by label: never touched
  }
  return mine;
}

void BridgePool::raise_label_counter(const std::vector<linode::Instance>& owned) {
  int64_t highest = 0;
  for (const auto& instance : owned) {
    highest = std::max(highest, label_number(instance.label, config_.linode.label_prefix).value());
  }
  if (highest >= state_.data().next_label_number) {
    state_.data().next_label_number = highest + 1;
    state_.save();
  }
}

std::optional<std::string> BridgePool::reserve_label(WallTime now) {
  const PersistentState before = state_.data();
  PersistentState& state = state_.data();
  const std::string label = config_.linode.label_prefix + std::to_string(state.next_label_number++);
  const double seconds = unix_seconds(now);
  state.creates.push_back(PendingCreate{label, static_cast<int64_t>(seconds), std::nullopt});
  state.last_scale_action_at = seconds;
  // The label is on disk before the POST: a crash between the two cannot create a twin.
  if (!state_.save()) {
    state_.data() = before;
    return std::nullopt;
  }
  return label;
}

std::string BridgePool::user_data(const std::string& label) const {
  return render_user_data(*config_.linode.user_data_template, label, config_);
}

void BridgePool::create(const std::string& label, Callback<linode::Instance> done) {
  linode::CreateRequest request;
  request.region = config_.linode.region;
  request.type = config_.linode.type;
  request.image = config_.linode.image;
  request.label = label;
  request.tags = config_.linode.tags;
  request.authorized_keys = config_.linode.authorized_keys;
  request.root_pass = config_.linode.root_pass;
  request.private_ip = config_.linode.private_ip;
  request.firewall_id = config_.linode.firewall_id;
  if (config_.linode.user_data_template) request.user_data = user_data(label);
  client_.create_instance(std::move(request), on_loop(io_, std::move(done)));
}

void BridgePool::find_by_label(const std::string& label,
                               Callback<std::vector<linode::Instance>> done) {
  linode::ListFilter filter;
  filter.label = label;
  client_.list_instances(filter, on_loop(io_, std::move(done)));
}

void BridgePool::list(Callback<std::vector<linode::Instance>> done) {
  linode::ListFilter filter;
  filter.tags = config_.linode.tags;
  client_.list_instances(filter, on_loop(io_, std::move(done)));
}

void BridgePool::remove(int64_t linode_id, Callback<linode::Done> done) {
  client_.delete_instance(linode_id, on_loop(io_, std::move(done)));
}

void BridgePool::shut_down(int64_t linode_id, Callback<linode::Done> done) {
  client_.shutdown_instance(linode_id, on_loop(io_, std::move(done)));
}

void BridgePool::bind(const std::string& label, int64_t linode_id) {
  for (auto& create : state_.data().creates) {
    if (create.label == label) create.linode_id = linode_id;
  }
  state_.save();
}

void BridgePool::drop_pending(const std::string& label) {
  auto& creates = state_.data().creates;
  creates.erase(std::remove_if(creates.begin(), creates.end(),
                               [&](const PendingCreate& c) { return c.label == label; }),
                creates.end());
  state_.save();
}

std::set<std::string> BridgePool::pending_labels() const {
  std::set<std::string> labels;
  for (const auto& create : state_.data().creates) labels.insert(create.label);
  return labels;
}

std::vector<std::string> BridgePool::settle_pending(
    const std::set<std::string>& listed, WallTime now,
    const std::function<bool(const std::string&)>& in_flight) {
  std::vector<std::string> never_created;
  auto& creates = state_.data().creates;
  bool changed = false;
  const double now_seconds = unix_seconds(now);
  for (auto it = creates.begin(); it != creates.end();) {
    if (listed.count(it->label) != 0) {
      it = creates.erase(it);
      changed = true;
    } else if (!in_flight(it->label) && now_seconds - static_cast<double>(it->requested_at) > 120) {
      spdlog::warn(
          "instance {} was never created (not in the Linode list 2 minutes after the "
          "request); forgetting it",
          it->label);
      never_created.push_back(it->label);
      it = creates.erase(it);
      changed = true;
    } else {
      ++it;
    }
  }
  if (changed) state_.save();
  return never_created;
}

void BridgePool::forget_drain(const std::string& name) {
  auto& drains = state_.data().drains;
  drains.erase(std::remove_if(drains.begin(), drains.end(),
                              [&](const PendingDrain& d) { return d.bridge == name; }),
               drains.end());
}

}  // namespace agent
