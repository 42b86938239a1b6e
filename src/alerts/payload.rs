//! Message shapes per sink kind (being written).
