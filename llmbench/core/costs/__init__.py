"""Money: dated prices and spend spikes."""
