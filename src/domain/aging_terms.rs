//! Aging on the caller's terms: the bucket edges, and the date a bucket counts days from
//! (the due date, as the standard report does, or the issue date).
//!
//! With edges `e1 < e2 < … < en` (days):
//! - by due date: `current` (0 days past due or fewer), `days_1_e1`, `days_{e1+1}_e2`, …,
//!   `days_over_en`; the default edges 30, 60, 90 give the documented five buckets;
//! - by issue date: `days_0_e1`, `days_{e1+1}_e2`, …, `days_over_en` (days since issue).

/// The date an invoice's age counts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AgeBy {
    DueDate,
    IssueDate,
}

/// At most this many edges (so at most 11 buckets).
pub(crate) const MAX_EDGES: usize = 10;

/// The largest edge: a hundred years of days.
const MAX_EDGE: i64 = 36_500;

/// The documented buckets' edges.
pub(crate) const DEFAULT_EDGES: [i64; 3] = [30, 60, 90];

/// `30,60,90,120` as edges: 1 to 10 whole numbers of days, each greater than the one
/// before, from 1 to 36500.
pub(crate) fn parse_edges(text: &str) -> Result<Vec<i64>, String> {
    let shape = format!("must be 1 to {MAX_EDGES} increasing whole numbers of days separated by commas, such as 30,60,90,120");
    let mut edges = Vec::new();
    for part in text.split(',') {
        let edge: i64 = part.trim().parse().map_err(|_| shape.clone())?;
        if !(1..=MAX_EDGE).contains(&edge) {
            return Err(format!("{shape}; each from 1 to {MAX_EDGE} (got {edge})"));
        }
        if edges.last().is_some_and(|last| *last >= edge) {
            return Err(format!("{shape}; {edge} does not follow a smaller edge"));
        }
        edges.push(edge);
    }
    if edges.len() > MAX_EDGES {
        return Err(shape);
    }
    Ok(edges)
}

/// One bucket: its name and the days it holds (`None` where it is open-ended).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Span {
    pub label: String,
    pub from: Option<i64>,
    pub to: Option<i64>,
}

/// Bucket edges and the date they count from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Terms {
    pub edges: Vec<i64>,
    pub age_by: AgeBy,
}

impl Terms {
    /// The buckets, in order.
    pub(crate) fn spans(&self) -> Vec<Span> {
        let mut spans = Vec::with_capacity(self.edges.len() + 2);
        let mut next_from = match self.age_by {
            AgeBy::DueDate => {
                spans.push(Span {
                    label: "current".into(),
                    from: None,
                    to: Some(0),
                });
                1
            }
            AgeBy::IssueDate => 0,
        };
        for edge in &self.edges {
            let from = if spans.is_empty() {
                None
            } else {
                Some(next_from)
            };
            spans.push(Span {
                label: format!("days_{next_from}_{edge}"),
                from,
                to: Some(*edge),
            });
            next_from = edge + 1;
        }
        let last = self.edges.last().copied().unwrap_or(0);
        spans.push(Span {
            label: format!("days_over_{last}"),
            from: Some(last + 1),
            to: None,
        });
        spans
    }

    /// The index in [`Terms::spans`] of an invoice `days` old.
    pub(crate) fn bucket_of(&self, days: i64) -> usize {
        let first = match self.age_by {
            AgeBy::DueDate if days <= 0 => return 0,
            AgeBy::DueDate => 1,
            AgeBy::IssueDate => 0,
        };
        let past = self.edges.iter().take_while(|edge| days > **edge).count();
        first + past
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(edges: &[i64], age_by: AgeBy) -> Terms {
        Terms {
            edges: edges.to_vec(),
            age_by,
        }
    }

    #[test]
    fn the_default_edges_give_the_documented_buckets() {
        let standard = terms(&DEFAULT_EDGES, AgeBy::DueDate);
        let labels: Vec<String> = standard.spans().into_iter().map(|s| s.label).collect();
        assert_eq!(
            labels,
            [
                "current",
                "days_1_30",
                "days_31_60",
                "days_61_90",
                "days_over_90"
            ]
        );
        for (days, expected) in [
            (-5, 0),
            (0, 0),
            (1, 1),
            (30, 1),
            (31, 2),
            (60, 2),
            (61, 3),
            (90, 3),
            (91, 4),
        ] {
            assert_eq!(standard.bucket_of(days), expected, "{days}");
            // The same edges as the standard report's own rule.
            let bucket = crate::domain::aging::Bucket::for_days_past_due(days);
            assert_eq!(crate::domain::aging::Bucket::ALL[expected], bucket);
        }
    }

    #[test]
    fn custom_edges_and_issue_date_ages() {
        let by_issue = terms(&[15, 45], AgeBy::IssueDate);
        let spans = by_issue.spans();
        assert_eq!(
            spans[0],
            Span {
                label: "days_0_15".into(),
                from: None,
                to: Some(15)
            }
        );
        assert_eq!(
            spans[1],
            Span {
                label: "days_16_45".into(),
                from: Some(16),
                to: Some(45)
            }
        );
        assert_eq!(
            spans[2],
            Span {
                label: "days_over_45".into(),
                from: Some(46),
                to: None
            }
        );
        assert_eq!(
            [0, 15, 16, 45, 46].map(|d| by_issue.bucket_of(d)),
            [0, 0, 1, 1, 2]
        );
        let long = terms(&[30, 60, 90, 120], AgeBy::DueDate);
        assert_eq!(long.spans().len(), 6);
        assert_eq!(long.bucket_of(121), 5);
    }

    #[test]
    fn edges_must_increase_and_stay_in_range() {
        assert_eq!(parse_edges("30, 60,90,120"), Ok(vec![30, 60, 90, 120]));
        for bad in [
            "",
            "30,30",
            "60,30",
            "0",
            "-5",
            "x",
            "1,2,3,4,5,6,7,8,9,10,11",
            "36501",
        ] {
            assert!(parse_edges(bad).is_err(), "{bad:?}");
        }
        assert_eq!(parse_edges("1,2,3,4,5,6,7,8,9,10").map(|e| e.len()), Ok(10));
    }
}
