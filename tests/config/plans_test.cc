#include "config/plans.h"

#include <gtest/gtest.h>

namespace papr::config {
namespace {

const char* kYaml = R"(
edition: cloud
features: {has_temporal: true, max_batch_size: 10000, max_document_bytes: 1000}
limits: {max_open_batches_per_user: 7}
webhooks: {retry_schedule_seconds: [0, 5]}
plans:
  - {name: business, max_batch_size: 10000, max_document_bytes: 50000}
  - {name: starter, max_batch_size: 1000, max_open_batches: 2, webhook_retry_schedule_seconds: [0]}
auth:
  default_plan: starter
  api_keys:
    - {key: k-a, user_id: ann}
    - {key: k-b, user_id: bob, plan: business}
    - {key: k-b2, user_id: bob, plan: business}
)";

TEST(PlansTest, AKeysPlanOrTheDefaultWithUnsetLimitsFromTheServersKeys) {
  auto c = LoadConfigFromString(kYaml);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_TRUE(Validate(*c, true).ok()) << Validate(*c, true).ToString();
  Plan ann = PlanOf(*c, "ann");
  EXPECT_EQ(ann.name, "starter");
  EXPECT_EQ(ann.max_batch_size, 1000);
  EXPECT_EQ(ann.max_open_batches, 2);
  EXPECT_EQ(ann.max_document_bytes, 1000);  // features.max_document_bytes
  EXPECT_EQ(ann.webhook_retry_schedule_seconds, std::vector<int64_t>{0});
  Plan bob = PlanOf(*c, "bob");
  EXPECT_EQ(bob.name, "business");
  EXPECT_EQ(bob.max_open_batches, 7);  // limits.max_open_batches_per_user
  EXPECT_EQ(bob.max_document_bytes, 50000);
  EXPECT_EQ(bob.webhook_retry_schedule_seconds, (std::vector<int64_t>{0, 5}));
  auto next = NextPlan(*c, ann);
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->name, "business");
  EXPECT_FALSE(NextPlan(*c, bob).has_value());
}

TEST(PlansTest, WithoutPlansTheServersLimitsAreThePlanNamedAfterTheEdition) {
  auto c = LoadConfigFromString("edition: opensource\nfeatures: {max_batch_size: 50}\n");
  ASSERT_TRUE(c.ok());
  Plan p = PlanOf(*c, "anyone");
  EXPECT_EQ(p.name, "opensource");
  EXPECT_EQ(p.max_batch_size, 50);
  EXPECT_FALSE(NextPlan(*c, p).has_value());
}

TEST(PlansTest, ReferencesToNoPlanDuplicatesAndUsersOnTwoPlansAreRefused) {
  const char* yaml = R"(
plans:
  - {name: a, max_batch_size: 10}
  - {name: a, max_batch_size: 20}
auth:
  default_plan: nope
  api_keys:
    - {key: k1, user_id: u, plan: missing}
    - {key: k2, user_id: v, plan: a}
    - {key: k3, user_id: v}
)";
  auto c = LoadConfigFromString(yaml);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  std::string problems = Validate(*c, true).ToString();
  EXPECT_NE(problems.find("plans[1].name 'a' is a duplicate"), std::string::npos) << problems;
  EXPECT_NE(problems.find("auth.default_plan names no plan: 'nope'"), std::string::npos);
  EXPECT_NE(problems.find("auth.api_keys[0].plan names no plan: 'missing'"), std::string::npos);
  EXPECT_NE(problems.find("keys of user_id 'v' must share one plan"), std::string::npos);
}

TEST(PlansTest, APlanEntryIsReadStrictly) {
  EXPECT_FALSE(LoadConfigFromString("plans:\n  - {max_batch_size: 10}\n").ok());  // no name
  auto unknown = LoadConfigFromString("plans:\n  - {name: a, max_batches: 10}\n");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("plans[0].max_batches"), std::string::npos);
  EXPECT_FALSE(LoadConfigFromString("plans:\n  - {name: a, max_batch_size: -1}\n").ok());
  EXPECT_FALSE(LoadConfigFromString("plans:\n  - {name: a, max_batch_size: x}\n").ok());
}

}  // namespace
}  // namespace papr::config
