#include "api/route_pattern.h"

namespace papr::api {

std::vector<std::string_view> PathSegments(std::string_view path) {
  std::vector<std::string_view> out;
  if (path.empty() || path.front() != '/') return out;
  path.remove_prefix(1);
  while (true) {
    size_t slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) return out;
    path.remove_prefix(slash + 1);
  }
}

RoutePattern::RoutePattern(std::string_view pattern) {
  for (std::string_view s : PathSegments(pattern)) {
    Segment seg;
    if (s.size() >= 2 && s.front() == '{' && s.back() == '}') {
      s = s.substr(1, s.size() - 2);
      seg.param = true;
      seg.greedy = !s.empty() && s.back() == '+';
      if (seg.greedy) s.remove_suffix(1);
    } else {
      ++literals_;
    }
    seg.text = std::string(s);
    segments_.push_back(std::move(seg));
  }
}

bool RoutePattern::Match(std::string_view path, std::vector<std::string>* params) const {
  std::vector<std::string_view> parts = PathSegments(path);
  params->clear();
  size_t greedy = segments_.size();
  for (size_t i = 0; i < segments_.size(); ++i) {
    if (segments_[i].greedy) greedy = i;
  }
  bool has_greedy = greedy < segments_.size();
  if (has_greedy ? parts.size() < segments_.size() : parts.size() != segments_.size()) {
    return false;
  }
  // Segments after the greedy one are matched from the end of the path.
  size_t extra = parts.size() - segments_.size();
  for (size_t i = 0; i < segments_.size(); ++i) {
    const Segment& seg = segments_[i];
    size_t at = i <= greedy ? i : i + extra;
    if (seg.greedy) {
      std::string joined;
      for (size_t j = i; j <= i + extra; ++j) {
        if (parts[j].empty()) return false;
        if (j > i) joined.push_back('/');
        joined.append(parts[j]);
      }
      params->push_back(std::move(joined));
    } else if (seg.param) {
      if (parts[at].empty()) return false;
      params->emplace_back(parts[at]);
    } else if (parts[at] != seg.text) {
      return false;
    }
  }
  return true;
}

std::vector<std::string> RoutePattern::ParamNames() const {
  std::vector<std::string> names;
  for (const auto& seg : segments_) {
    if (seg.param) names.push_back(seg.text);
  }
  return names;
}

std::string RoutePattern::OpenApiPath() const {
  std::string out;
  for (const auto& seg : segments_) {
    out.push_back('/');
    out += seg.param ? "{" + seg.text + "}" : seg.text;
  }
  return out;
}

}  // namespace papr::api
