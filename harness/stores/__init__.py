"""Database stores behind one small interface; the applier never imports a driver."""
