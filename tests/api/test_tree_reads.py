"""The rights trees a transaction read for a trade, and the operating right its gate found among
them, are reused by the licence issued in that transaction, and only there: another read of the
trees, or another transaction, validates the chain again."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import text

from market.rights import tree_reads
from market.rights.models import RightGrantRow


async def test_the_gates_operating_right_goes_with_its_own_read_only(app: Any) -> None:
    product_id, seller_id = uuid.uuid4(), uuid.uuid4()
    grant = RightGrantRow(id=uuid.uuid4())
    async with app.state.sessionmaker() as session:
        await session.execute(text("SELECT 1"))  # a transaction is open
        tree_reads.note_operating(session, product_id, seller_id, [grant], None)  # no read yet
        tree_reads.remember(session, product_id, [], [grant], locked=True)
        recalled = tree_reads.recall(session, product_id)
        assert recalled is not None
        grants = recalled[1]
        assert tree_reads.noted_operating(session, product_id, seller_id, grants) is None  # none noted
        # Found among other rows (another read of the trees): not kept.
        tree_reads.note_operating(session, product_id, seller_id, [RightGrantRow(id=grant.id)], None)
        assert tree_reads.noted_operating(session, product_id, seller_id, grants) is None
        tree_reads.note_operating(session, product_id, seller_id, [grant], None)
        assert tree_reads.noted_operating(session, product_id, seller_id, grants) == (None,)
        # Asked with the trees read again (another list) or for another holder: validated again.
        assert tree_reads.noted_operating(session, product_id, seller_id, list(grants)) is None
        assert tree_reads.noted_operating(session, product_id, uuid.uuid4(), grants) is None
        await session.commit()
        await session.execute(text("SELECT 1"))  # the next transaction
        assert tree_reads.noted_operating(session, product_id, seller_id, grants) is None
