//! [`TrusteeStore`]: shares kept until their time and/or their owner's
//! silence, check-ins that move only a silence, cancellations, and the
//! sweep (SPEC.md §6.10.6). Times are passed in, so a dead man's switch of
//! hours runs in no time.

use kovan_relay::db::StoreError;
use kovan_relay::services::trustee::TrusteeStore;
use kovan_relay::services::trustee::store::{DepositState, Deposited, NewDeposit, Outcome};

use crate::conformance;

conformance!(
    a_share_is_handed_out_from_its_time_on,
    a_silence_moves_with_each_check_in_of_its_owner,
    a_cancelled_share_is_gone_and_a_due_one_cannot_be_cancelled,
    deposits_are_unique_bounded_and_swept
);

const HOUR: i64 = 3_600_000;
const T0: i64 = 1_800_000_000_000;

fn deposit(id: u8, owner: u8, release_at_ms: i64, silence_ms: i64) -> NewDeposit {
    let mut share = [id; 33];
    share[0] = 1;
    NewDeposit {
        id: [id; 16],
        owner: [owner; 32],
        share,
        release_at_ms,
        silence_ms,
        created_ms: T0,
    }
}

async fn a_share_is_handed_out_from_its_time_on<S: TrusteeStore>(s: S) {
    let d = deposit(1, 7, T0 + HOUR, 0);
    assert_eq!(s.deposit(&d, 10, T0).await.unwrap(), Deposited::Kept { due_ms: T0 + HOUR });
    assert_eq!(
        s.fetch(&d.id, T0).await.unwrap(),
        Some(DepositState::Waiting { due_ms: T0 + HOUR })
    );
    assert_eq!(
        s.fetch(&d.id, T0 + HOUR - 1).await.unwrap(),
        Some(DepositState::Waiting { due_ms: T0 + HOUR }),
        "not a millisecond early"
    );
    assert_eq!(
        s.fetch(&d.id, T0 + HOUR).await.unwrap(),
        Some(DepositState::Released { due_ms: T0 + HOUR, share: d.share.to_vec() })
    );
    assert_eq!(s.fetch(&[9; 16], T0).await.unwrap(), None, "no such deposit");
    // A check-in does not bring a time forward or push it back.
    let out = s.check_in(&d.owner, &[d.id], T0 + 10, T0 + 10).await.unwrap();
    assert_eq!(out, [Outcome::Waiting(T0 + HOUR)]);
}

async fn a_silence_moves_with_each_check_in_of_its_owner<S: TrusteeStore>(s: S) {
    let d = deposit(2, 7, 0, 24 * HOUR);
    s.deposit(&d, 10, T0).await.unwrap();
    // Checked in at 20 h: due at 44 h, not 24 h.
    let at = T0 + 20 * HOUR;
    assert_eq!(
        s.check_in(&d.owner, &[d.id], at, at).await.unwrap(),
        [Outcome::Waiting(at + 24 * HOUR)]
    );
    assert!(matches!(
        s.fetch(&d.id, T0 + 30 * HOUR).await.unwrap(),
        Some(DepositState::Waiting { .. })
    ));
    // Someone else's check-in, a replayed one and one for an unknown id.
    assert_eq!(s.check_in(&[8; 32], &[d.id], at + 1, at + 1).await.unwrap(), [Outcome::Unknown]);
    assert_eq!(s.check_in(&d.owner, &[d.id], at, at + 5).await.unwrap(), [Outcome::Stale]);
    assert_eq!(s.check_in(&d.owner, &[[3; 16]], at + 1, at + 1).await.unwrap(), [Outcome::Unknown]);
    // A check-in dated ahead of the relay's clock counts from the clock.
    let out = s.check_in(&d.owner, &[d.id], at + 2 * HOUR, at + HOUR).await.unwrap();
    assert_eq!(out, [Outcome::Waiting(at + 25 * HOUR)]);
    // Silence: released at 45 h; then a check-in is too late.
    let due = at + 25 * HOUR;
    assert!(matches!(s.fetch(&d.id, due).await.unwrap(), Some(DepositState::Released { .. })));
    let late = s.check_in(&d.owner, &[d.id], due + 3 * HOUR, due + 1).await.unwrap();
    assert_eq!(late, [Outcome::Released]);
}

async fn a_cancelled_share_is_gone_and_a_due_one_cannot_be_cancelled<S: TrusteeStore>(s: S) {
    let (a, b) = (deposit(4, 7, T0 + HOUR, 0), deposit(5, 7, T0 + HOUR, 0));
    s.deposit(&a, 10, T0).await.unwrap();
    s.deposit(&b, 10, T0).await.unwrap();
    assert_eq!(s.cancel(&[8; 32], &[a.id], T0 + 1, T0 + 1).await.unwrap(), [Outcome::Unknown]);
    let out = s.cancel(&a.owner, &[a.id, [6; 16]], T0 + 2, T0 + 2).await.unwrap();
    assert_eq!(out, [Outcome::Cancelled, Outcome::Unknown]);
    assert_eq!(s.fetch(&a.id, T0 + 2 * HOUR).await.unwrap(), Some(DepositState::Cancelled));
    assert_eq!(s.check_in(&a.owner, &[a.id], T0 + 3, T0 + 3).await.unwrap(), [Outcome::Cancelled]);
    // Once due it is out: a cancellation says so and changes nothing.
    let late = s.cancel(&b.owner, &[b.id], T0 + HOUR, T0 + HOUR).await.unwrap();
    assert_eq!(late, [Outcome::Released]);
    assert!(matches!(
        s.fetch(&b.id, T0 + HOUR).await.unwrap(),
        Some(DepositState::Released { .. })
    ));
}

async fn deposits_are_unique_bounded_and_swept<S: TrusteeStore>(s: S) {
    let d = deposit(10, 7, T0 + HOUR, 0);
    s.deposit(&d, 2, T0).await.unwrap();
    // The same deposit again is answered as the first time; another with
    // its id is refused.
    assert_eq!(s.deposit(&d, 2, T0 + 5).await.unwrap(), Deposited::Again { due_ms: T0 + HOUR });
    let other = NewDeposit { owner: [8; 32], ..d.clone() };
    assert!(matches!(s.deposit(&other, 2, T0).await, Err(StoreError::Conflict(_))));
    // Two not yet due per owner here; a due one does not count.
    s.deposit(&deposit(11, 7, T0 + 2 * HOUR, 0), 2, T0).await.unwrap();
    assert!(matches!(
        s.deposit(&deposit(12, 7, T0 + HOUR, 0), 2, T0).await,
        Err(StoreError::Quota(_))
    ));
    s.deposit(&deposit(13, 7, T0 + 3 * HOUR, 0), 2, T0 + HOUR).await.unwrap();
    s.deposit(&deposit(14, 9, T0 + 2 * HOUR, 0), 2, T0).await.unwrap();
    let out = s.cancel(&[9; 32], &[[14; 16]], T0 + HOUR, T0 + HOUR).await.unwrap();
    assert_eq!(out, [Outcome::Cancelled]);
    // Kept 30 days after due (or after a cancellation), then gone.
    let keep = 30 * 24 * HOUR;
    assert_eq!(s.sweep_deposits(T0 + HOUR + keep, keep).await.unwrap(), 0);
    assert_eq!(s.sweep_deposits(T0 + HOUR + keep + 1, keep).await.unwrap(), 2);
    assert_eq!(s.fetch(&d.id, T0 + HOUR + keep + 1).await.unwrap(), None);
    assert!(s.fetch(&[13; 16], T0).await.unwrap().is_some());
}
