// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import { IERC20 } from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import { SafeERC20 } from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import { KeeperFlows } from "./KeeperFlows.sol";

/// @notice The part of `CreditMessenger` the vault calls when it applies delivered credit.
interface ICreditMessengerClaim {
    function claimPendingCredit(bytes32 key) external returns (uint256 amount, uint32 srcEid);
}

/**
 * @title CollateralVault
 * @notice A minimal single-asset lending pool on one chain, plus the two hooks the Ballast keeper uses
 * to move idle liquidity between chains through a `BallastRoute`.
 *
 * - Suppliers `supply` and `withdraw` their own balance (limited by idle liquidity).
 * - Accounts with `BORROWER_ROLE` `borrow` idle liquidity and `repay` it (no interest on the devnet).
 * - The keeper (`KEEPER_ROLE`) may only send liquidity to the configured route (`withdrawToRoute`),
 *   bounded by a fixed-window outflow cap, and each rebalance id is usable once. A stolen keeper key
 *   can therefore move at most `maxOutflowPerWindow` per window, and only to the route.
 * - Only the route can bring liquidity back (`depositFromRoute`).
 * - The admin (`DEFAULT_ADMIN_ROLE`) sets the route, the cap and can pause keeper flows.
 * The route, the cap, the pause flags, the once-per-id bookkeeping, the cumulative keeper-flow counters
 * (`cumulativeWithdrawnToRoute`, `cumulativeDepositedFromRoute`: Σ `withdrawToRoute` and Σ
 * `depositFromRoute`, base units) and their events and errors are `KeeperFlows`' (shared with
 * `AaveAllocator`); keeper outflows are also bounded by idle liquidity.
 *
 * Lending capacity (credit lines, "capacity moves"): `borrow` is also bounded by `borrowLimit`, the
 * vault's lending capacity in asset base units. The keeper moves capacity between chains without moving
 * tokens, as a saga mirroring the collateral one:
 *   1. `reserveCredit(key, amount)` lowers `borrowLimit` (never below `totalBorrowed`, under a
 *      per-window credit cap) and holds the amount as reserved for the messenger; compensation:
 *      `restoreCredit(key)` while it is still reserved;
 *   2. the local `CreditMessenger.sendCredit` takes the reservation (`releaseReservedCredit`, counted in
 *      `creditSentTo[dstEid]`) and sends (key, amount) to its peer messenger;
 *   3. the destination messenger records the delivered credit as pending for the key;
 *   4. `applyCredit(key)` on the destination vault claims it and raises `borrowLimit` and
 *      `creditReceivedFrom[srcEid]`. If that is refused, the messenger sends the pending credit back
 *      (`CreditMessenger.returnCredit`) and the source vault applies it under the return key.
 * Deployment-wide, Σ borrowLimit + reserved + in flight + pending = what the admin set (conserved by
 * every step; only `setBorrowLimit` changes it). Remote chains are named by LayerZero endpoint id.
 *
 * @dev Liquidity moved by the keeper changes `totalSupplied` (the pool's liquidity on this chain) but
 * not any supplier's `suppliedBy` balance: it is protocol-level rebalancing, not a supplier action.
 */
contract CollateralVault is KeeperFlows {
    using SafeERC20 for IERC20;

    /// @notice Role allowed to `borrow` and `repay`.
    bytes32 public constant BORROWER_ROLE = keccak256("BORROWER_ROLE");

    IERC20 private immutable _asset;

    /// @notice Liquidity supplied to the pool on this chain, in asset base units.
    uint256 public totalSupplied;
    /// @notice Liquidity currently borrowed, in asset base units.
    uint256 public totalBorrowed;
    /// @notice Balance supplied by each supplier.
    mapping(address account => uint256 amount) public suppliedBy;
    /// @notice Debt of each borrower.
    mapping(address borrower => uint256 amount) public borrowedBy;
    /// @notice Lifecycle of a credit reservation: `Reserved` → `Sent` (taken by the messenger) or `Restored`.
    enum ReservationStatus {
        None,
        Reserved,
        Sent,
        Restored
    }

    /// @notice A credit reservation: its amount (base units) and status.
    struct CreditReservation {
        uint256 amount;
        ReservationStatus status;
    }

    /// @notice Lending capacity (base units): `borrow` reverts when `totalBorrowed` would exceed it.
    uint256 public borrowLimit;
    /// @notice Credit reserved for the messenger and neither sent nor restored yet (base units).
    uint256 public reservedCredit;
    /// @notice The only contract that may take reservations and from which credit is claimed.
    address public creditMessenger;
    /// @notice Credit sent to each remote chain (LayerZero eid), cumulative, base units.
    mapping(uint32 remoteEid => uint256 amount) public creditSentTo;
    /// @notice Credit received from each remote chain (LayerZero eid) and applied here, cumulative, base units.
    mapping(uint32 remoteEid => uint256 amount) public creditReceivedFrom;
    /// @notice Credit reservations by key.
    mapping(bytes32 key => CreditReservation) public creditReservations;
    /// @notice Credit applied here per key (0 = none).
    mapping(bytes32 key => uint256 amount) public appliedCreditOf;

    uint256 private _maxCreditOutPerWindow;
    uint64 private _creditWindowSec;
    uint64 private _creditWindowStart;
    uint256 private _creditOutInWindow;

    /// @notice `account` supplied `amount`.
    event Supplied(address indexed account, uint256 amount);
    /// @notice `account` withdrew `amount` of its supplied balance.
    event Withdrawn(address indexed account, uint256 amount);
    /// @notice `borrower` borrowed `amount`.
    event Borrowed(address indexed borrower, uint256 amount);
    /// @notice `borrower` repaid `amount`.
    event Repaid(address indexed borrower, uint256 amount);
    /// @notice The admin changed the lending capacity.
    event BorrowLimitSet(uint256 previousLimit, uint256 newLimit);
    /// @notice The credit messenger changed.
    event CreditMessengerSet(address indexed previousMessenger, address indexed newMessenger);
    /// @notice The credit cap changed.
    event CreditCapSet(uint256 maxCreditOutPerWindow, uint64 windowSec);
    /// @notice The keeper reserved `amount` of capacity under `key`; `borrowLimit` is the new limit,
    /// `creditOutInWindow` the credit window's usage after it.
    event CreditReserved(bytes32 indexed key, uint256 amount, uint256 borrowLimit, uint256 creditOutInWindow);
    /// @notice The reservation `key` was given back: `borrowLimit` raised by `amount`.
    event CreditRestored(bytes32 indexed key, uint256 amount, uint256 borrowLimit);
    /// @notice The messenger took reservation `key` to send it to `dstEid`; `creditSentTo` is the line's new total.
    event CreditReleased(bytes32 indexed key, uint32 indexed dstEid, uint256 amount, uint256 creditSentTo);
    /// @notice Credit `key` from `srcEid` was applied: `borrowLimit` raised by `amount` to `borrowLimit`.
    event CreditApplied(bytes32 indexed key, uint32 indexed srcEid, uint256 amount, uint256 borrowLimit);

    /// @notice Not enough idle (supplied minus borrowed) liquidity.
    error InsufficientIdle(uint256 requested, uint256 idle);
    /// @notice A supplier tried to withdraw more than it supplied.
    error InsufficientSupplied(uint256 requested, uint256 supplied);
    /// @notice A borrower tried to repay more than it owes.
    error RepayExceedsDebt(uint256 requested, uint256 debt);
    /// @notice The borrow would take `totalBorrowed` past `borrowLimit`; `available` is what is left.
    error BorrowLimitExceeded(uint256 requested, uint256 available);
    /// @notice Reserving would take `borrowLimit` below `totalBorrowed`; `spare` = borrowLimit − totalBorrowed.
    error InsufficientCredit(uint256 requested, uint256 spare);
    /// @notice The reservation would exceed what is left of the current credit window's cap.
    error CreditCapExceeded(uint256 requested, uint256 remaining);
    /// @notice No credit messenger is configured.
    error CreditMessengerNotSet();
    /// @notice Caller is not the configured credit messenger.
    error NotCreditMessenger(address caller);
    /// @notice `key` is not a reservation in status `Reserved` (never reserved, or already sent/restored).
    error CreditNotReserved(bytes32 key, ReservationStatus status);

    /**
     * @param asset_ The ERC-20 lent by this vault (the Ballast OFT on the devnet).
     * @param admin Receives `DEFAULT_ADMIN_ROLE`.
     * @dev Reverts `ZeroAddress` if either is zero. The outflow cap starts at 0: nothing can leave
     * through the keeper until the admin calls `setOutflowCap`.
     */
    constructor(address asset_, address admin) {
        if (asset_ == address(0) || admin == address(0)) revert ZeroAddress();
        _asset = IERC20(asset_);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    // ------------------------------------------------------------------ suppliers

    /**
     * @notice Supplies `amount` of the asset from the caller (needs a prior ERC-20 approval).
     * @dev Anyone may call. Reverts `ZeroAmount`, or the token's error if the transfer fails. Emits `Supplied`.
     */
    function supply(uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        suppliedBy[msg.sender] += amount;
        totalSupplied += amount;
        emit Supplied(msg.sender, amount);
        _asset.safeTransferFrom(msg.sender, address(this), amount);
    }

    /**
     * @notice Withdraws `amount` of the caller's supplied balance.
     * @dev Anyone may call for their own balance. Reverts `ZeroAmount`,
     * `InsufficientSupplied(requested, supplied)`, `InsufficientIdle(requested, idle)`. Emits `Withdrawn`.
     */
    function withdraw(uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        uint256 supplied = suppliedBy[msg.sender];
        if (amount > supplied) revert InsufficientSupplied(amount, supplied);
        uint256 idle_ = idle();
        if (amount > idle_) revert InsufficientIdle(amount, idle_);
        suppliedBy[msg.sender] = supplied - amount;
        totalSupplied -= amount;
        emit Withdrawn(msg.sender, amount);
        _asset.safeTransfer(msg.sender, amount);
    }

    // ------------------------------------------------------------------ borrowers

    /**
     * @notice Borrows `amount` of idle liquidity to the caller.
     * @dev Only `BORROWER_ROLE` (`AccessControlUnauthorizedAccount` otherwise). Reverts `ZeroAmount`,
     * `InsufficientIdle(requested, idle)`, `BorrowLimitExceeded(requested, available)` when
     * `totalBorrowed + amount > borrowLimit`. Emits `Borrowed`.
     */
    function borrow(uint256 amount) external onlyRole(BORROWER_ROLE) {
        if (amount == 0) revert ZeroAmount();
        uint256 idle_ = idle();
        if (amount > idle_) revert InsufficientIdle(amount, idle_);
        uint256 available = spareCredit();
        if (amount > available) revert BorrowLimitExceeded(amount, available);
        borrowedBy[msg.sender] += amount;
        totalBorrowed += amount;
        emit Borrowed(msg.sender, amount);
        _asset.safeTransfer(msg.sender, amount);
    }

    /**
     * @notice Repays `amount` of the caller's debt (needs a prior ERC-20 approval).
     * @dev Only `BORROWER_ROLE`. Reverts `ZeroAmount`, `RepayExceedsDebt(requested, debt)`. Emits `Repaid`.
     */
    function repay(uint256 amount) external onlyRole(BORROWER_ROLE) {
        if (amount == 0) revert ZeroAmount();
        uint256 debt = borrowedBy[msg.sender];
        if (amount > debt) revert RepayExceedsDebt(amount, debt);
        borrowedBy[msg.sender] = debt - amount;
        totalBorrowed -= amount;
        emit Repaid(msg.sender, amount);
        _asset.safeTransferFrom(msg.sender, address(this), amount);
    }

    // ------------------------------------------------------------------ keeper / route

    /**
     * @notice Sends `amount` of idle liquidity to the configured route for rebalance `rebalanceId`.
     * @dev Only `KEEPER_ROLE`. The outflow cap is a fixed window: once `windowSec` has passed since
     * the window started, a new window starts at this block with nothing used.
     * Reverts `ZeroAmount`, `RouteNotSet`, `RebalanceIdUsed(rebalanceId)`, `OutflowPaused`,
     * `InsufficientIdle(requested, idle)`, `OutflowCapExceeded(requested, remaining)` (the checks and the
     * cap are `KeeperFlows._takeOutflow`'s, the idle check this contract's `_checkOutflowAvailable`).
     * Lowers `totalSupplied` by `amount`, adds it to `cumulativeWithdrawnToRoute`. Emits `WithdrawnToRoute`.
     */
    function withdrawToRoute(bytes32 rebalanceId, uint256 amount) external onlyRole(KEEPER_ROLE) {
        address route_ = _takeOutflow(rebalanceId, amount);
        totalSupplied -= amount;
        _asset.safeTransfer(route_, amount);
    }

    /**
     * @notice Pulls `amount` from the route (which must have approved this vault) for `rebalanceId`.
     * @dev Only the configured route (`NotRoute(caller)` otherwise). Reverts `ZeroAmount`,
     * `InflowPaused`, `RebalanceIdUsed(rebalanceId)` (`KeeperFlows._takeInflow`), or the token's error if
     * the transfer fails. Raises `totalSupplied` by `amount`, adds it to `cumulativeDepositedFromRoute`.
     * Emits `DepositedFromRoute`.
     */
    function depositFromRoute(bytes32 rebalanceId, uint256 amount) external {
        _takeInflow(rebalanceId, amount);
        totalSupplied += amount;
        _asset.safeTransferFrom(msg.sender, address(this), amount);
    }

    // ------------------------------------------------------------------ lending capacity (credit lines)

    /**
     * @notice Reserves `amount` of lending capacity under `key` for a capacity move: `borrowLimit` drops
     * by `amount` and the amount is held for the credit messenger (`reservedCredit`).
     * @dev Only `KEEPER_ROLE`. The credit cap is a fixed window like the outflow cap (its own window).
     * Reverts `ZeroAmount`, `CreditMessengerNotSet`, `RebalanceIdUsed(key)` (any earlier reservation
     * under `key`, whatever its status), `OutflowPaused`, `InsufficientCredit(requested, spare)` when the
     * limit would fall below `totalBorrowed`, `CreditCapExceeded(requested, remaining)`.
     * Emits `CreditReserved`.
     * @param key The rebalance id of the capacity move (once per vault).
     * @param amount Capacity in asset base units.
     */
    function reserveCredit(bytes32 key, uint256 amount) external onlyRole(KEEPER_ROLE) {
        if (amount == 0) revert ZeroAmount();
        if (creditMessenger == address(0)) revert CreditMessengerNotSet();
        CreditReservation storage r = creditReservations[key];
        if (r.status != ReservationStatus.None) revert RebalanceIdUsed(key);
        if (outflowPaused) revert OutflowPaused();
        uint256 spare = spareCredit();
        if (amount > spare) revert InsufficientCredit(amount, spare);

        if (block.timestamp >= uint256(_creditWindowStart) + _creditWindowSec) {
            _creditWindowStart = uint64(block.timestamp);
            _creditOutInWindow = 0;
        }
        uint256 used = _creditOutInWindow;
        uint256 remaining = _maxCreditOutPerWindow > used ? _maxCreditOutPerWindow - used : 0;
        if (amount > remaining) revert CreditCapExceeded(amount, remaining);

        _creditOutInWindow = used + amount;
        r.amount = amount;
        r.status = ReservationStatus.Reserved;
        borrowLimit -= amount;
        reservedCredit += amount;
        emit CreditReserved(key, amount, borrowLimit, used + amount);
    }

    /**
     * @notice Gives a reservation that was not sent back to the lending capacity (compensation of
     * `reserveCredit`). The credit window's usage is not refunded (like a redeposit after an outflow).
     * @dev Only `KEEPER_ROLE`. Allowed while keeper flows are paused (it only undoes a reservation).
     * Reverts `RebalanceIdUsed(key)` when already restored, `CreditNotReserved(key, status)` when never
     * reserved or already sent. Emits `CreditRestored`.
     */
    function restoreCredit(bytes32 key) external onlyRole(KEEPER_ROLE) {
        CreditReservation storage r = creditReservations[key];
        if (r.status == ReservationStatus.Restored) revert RebalanceIdUsed(key);
        if (r.status != ReservationStatus.Reserved) revert CreditNotReserved(key, r.status);
        uint256 amount = r.amount;
        r.status = ReservationStatus.Restored;
        reservedCredit -= amount;
        borrowLimit += amount;
        emit CreditRestored(key, amount, borrowLimit);
    }

    /**
     * @notice Hands reservation `key` to the credit messenger, which sends it to `dstEid`.
     * @dev Only the configured `creditMessenger` (`NotCreditMessenger(caller)` otherwise). Reverts
     * `OutflowPaused`, `CreditNotReserved(key, status)`. Adds the amount to `creditSentTo[dstEid]`.
     * Emits `CreditReleased`.
     * @return amount The reserved amount (base units), now in flight.
     */
    function releaseReservedCredit(bytes32 key, uint32 dstEid) external returns (uint256 amount) {
        if (msg.sender != creditMessenger || msg.sender == address(0)) revert NotCreditMessenger(msg.sender);
        if (outflowPaused) revert OutflowPaused();
        CreditReservation storage r = creditReservations[key];
        if (r.status != ReservationStatus.Reserved) revert CreditNotReserved(key, r.status);
        amount = r.amount;
        r.status = ReservationStatus.Sent;
        reservedCredit -= amount;
        uint256 line = creditSentTo[dstEid] + amount;
        creditSentTo[dstEid] = line;
        emit CreditReleased(key, dstEid, amount, line);
    }

    /**
     * @notice Applies the credit the messenger received under `key`: `borrowLimit` and
     * `creditReceivedFrom[srcEid]` rise by its amount.
     * @dev Only `KEEPER_ROLE`. Reverts `CreditMessengerNotSet`, `RebalanceIdUsed(key)` when already
     * applied, `InflowPaused`, and the messenger's `CreditNotPending(key, status)` when nothing is
     * pending under `key` (not delivered yet, or returned). Emits `CreditApplied`.
     * @param key The key the credit travelled under (a rebalance id, or its return key on the way back).
     */
    function applyCredit(bytes32 key) external onlyRole(KEEPER_ROLE) {
        address messenger = creditMessenger;
        if (messenger == address(0)) revert CreditMessengerNotSet();
        if (appliedCreditOf[key] != 0) revert RebalanceIdUsed(key);
        if (inflowPaused) revert InflowPaused();
        (uint256 amount, uint32 srcEid) = ICreditMessengerClaim(messenger).claimPendingCredit(key);
        if (amount == 0) revert ZeroAmount();
        appliedCreditOf[key] = amount;
        borrowLimit += amount;
        creditReceivedFrom[srcEid] += amount;
        emit CreditApplied(key, srcEid, amount, borrowLimit);
    }

    // ------------------------------------------------------------------ admin

    /**
     * @notice Sets the lending capacity. This is the one call that changes the deployment's total
     * capacity (capacity moves only shift it between chains).
     * @dev Only `DEFAULT_ADMIN_ROLE`. A limit below `totalBorrowed` only blocks new borrows. Emits `BorrowLimitSet`.
     */
    function setBorrowLimit(uint256 newLimit) external onlyRole(DEFAULT_ADMIN_ROLE) {
        emit BorrowLimitSet(borrowLimit, newLimit);
        borrowLimit = newLimit;
    }

    /**
     * @notice Sets the credit messenger (zero disables capacity moves).
     * @dev Only `DEFAULT_ADMIN_ROLE`. Emits `CreditMessengerSet`.
     */
    function setCreditMessenger(address newMessenger) external onlyRole(DEFAULT_ADMIN_ROLE) {
        emit CreditMessengerSet(creditMessenger, newMessenger);
        creditMessenger = newMessenger;
    }

    /**
     * @notice Sets the credit cap: at most `maxCreditOutPerWindow` reserved per fixed window of `windowSec` seconds.
     * @dev Only `DEFAULT_ADMIN_ROLE`. Usage already counted in the current window is kept. Emits `CreditCapSet`.
     */
    function setCreditCap(uint256 maxCreditOutPerWindow, uint64 windowSec) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _maxCreditOutPerWindow = maxCreditOutPerWindow;
        _creditWindowSec = windowSec;
        emit CreditCapSet(maxCreditOutPerWindow, windowSec);
    }

    // ------------------------------------------------------------------ views

    /// @notice The lent asset.
    function asset() external view returns (address) {
        return address(_asset);
    }

    /// @notice Liquidity available for withdrawals, borrows and keeper outflows.
    function idle() public view returns (uint256) {
        uint256 supplied = totalSupplied;
        uint256 borrowed = totalBorrowed;
        return supplied > borrowed ? supplied - borrowed : 0;
    }

    /// @notice `totalBorrowed * 1e18 / totalSupplied`, or 0 when nothing is supplied.
    function utilizationWad() external view returns (uint256) {
        uint256 supplied = totalSupplied;
        if (supplied == 0) return 0;
        return (totalBorrowed * 1e18) / supplied;
    }

    /// @notice Capacity not borrowed: `borrowLimit − totalBorrowed`, or 0 when borrowed is at or above the limit.
    function spareCredit() public view returns (uint256) {
        uint256 limit = borrowLimit;
        uint256 borrowed = totalBorrowed;
        return limit > borrowed ? limit - borrowed : 0;
    }

    /**
     * @notice The credit line with remote chain `remoteEid`.
     * @return sent Credit sent to it (cumulative, base units).
     * @return received Credit received from it and applied here (cumulative, base units).
     */
    function creditLine(uint32 remoteEid) external view returns (uint256 sent, uint256 received) {
        return (creditSentTo[remoteEid], creditReceivedFrom[remoteEid]);
    }

    /**
     * @notice The credit cap and the current credit window's state.
     * @return maxCreditOutPerWindow Cap per window, asset base units.
     * @return windowSec Window length in seconds.
     * @return creditOutInWindow Reserved in the current window; 0 if the window has expired.
     * @return windowStart Start of the last window (unix seconds).
     */
    function creditCap()
        external
        view
        returns (uint256 maxCreditOutPerWindow, uint64 windowSec, uint256 creditOutInWindow, uint64 windowStart)
    {
        bool expired = block.timestamp >= uint256(_creditWindowStart) + _creditWindowSec;
        return (_maxCreditOutPerWindow, _creditWindowSec, expired ? 0 : _creditOutInWindow, _creditWindowStart);
    }

    // ------------------------------------------------------------------ internal

    /**
     * @notice Keeper outflows take idle liquidity only: reverts `InsufficientIdle(requested, idle)` when
     * `amount` exceeds `idle()`.
     * @dev `KeeperFlows._takeOutflow` hook: runs after the pause check, before the outflow cap.
     */
    function _checkOutflowAvailable(uint256 amount) internal view override {
        uint256 idle_ = idle();
        if (amount > idle_) revert InsufficientIdle(amount, idle_);
    }
}
